//! Did-you-mean suggestions for misspelled keys and names.
//!
//! [`did_you_mean`] picks the candidate with the smallest Levenshtein distance to the input, and
//! only when that distance is small relative to the input's length (as `just` and `cargo` do), so
//! a wild guess never turns into a misleading hint.

/// The candidate closest to `input`, if one is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let lowered = input.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for &candidate in candidates {
        if candidate == input {
            continue;
        }
        let distance = if candidate.to_lowercase() == lowered {
            0
        } else {
            levenshtein(&lowered, &candidate.to_lowercase())
        };
        let length = input.chars().count().max(candidate.chars().count());
        // One edit per three characters, at least one: `respnse` → `response`, not `a` → `id`.
        let allowed = (length / 3).max(1);
        if distance <= allowed
            && distance < input.chars().count()
            && best.is_none_or(|(best_distance, _)| distance < best_distance)
        {
            best = Some((distance, candidate));
        }
    }
    best.map(|(_, candidate)| candidate)
}

/// The number of single-character insertions, deletions, substitutions and transpositions of
/// adjacent characters from `a` to `b` (optimal string alignment distance): `titel` → `title` is 1.
fn levenshtein(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let width = b.len() + 1;
    let mut d = vec![0; (a.len() + 1) * width];
    for i in 0..=a.len() {
        d[i * width] = i;
    }
    for (j, cell) in d.iter_mut().enumerate().take(width) {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[(i - 1) * width + j] + 1)
                .min(d[i * width + j - 1] + 1)
                .min(d[(i - 1) * width + j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[(i - 2) * width + j - 2] + 1);
            }
            d[i * width + j] = best;
        }
    }
    d[a.len() * width + b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distances() {
        let cases = [
            ("", "", 0),
            ("abc", "", 3),
            ("kitten", "sitting", 3),
            ("respnse", "response", 1),
            ("flaw", "lawn", 2),
            ("titel", "title", 1),
            ("cuont", "count", 1),
        ];
        for (a, b, expected) in cases {
            assert_eq!(levenshtein(a, b), expected, "{a} → {b}");
        }
    }

    #[test]
    fn suggests_close_candidates_only() {
        let keys = ["request", "response", "responses", "name", "priority"];
        let cases = [
            ("respnse", Some("response")),
            ("reqest", Some("request")),
            ("Name", Some("name")),
            ("priorty", Some("priority")),
            ("responsess", Some("responses")),
            ("x", None),
            ("banana", None),
            ("name", None),
        ];
        for (input, expected) in cases {
            assert_eq!(did_you_mean(input, &keys), expected, "{input}");
        }
    }

    #[test]
    fn no_candidates_no_suggestion() {
        assert_eq!(did_you_mean("anything", &[]), None);
    }
}
