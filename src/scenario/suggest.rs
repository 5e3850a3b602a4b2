//! Did-you-mean suggestions for misspelled keys and names.
//!
//! [`did_you_mean`] picks the candidate with the smallest Levenshtein distance to the input, and
//! only when that distance is small relative to the input's length (as `just` and `cargo` do), so
//! a wild guess never turns into a misleading hint.

/// The candidate closest to `input`, if one is close enough to be a likely typo.
///
/// ```
/// use reenact::scenario::suggest::did_you_mean;
/// assert_eq!(did_you_mean("respnse", &["request", "response"]), Some("response"));
/// assert_eq!(did_you_mean("banana", &["request", "response"]), None);
/// ```
pub fn did_you_mean<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
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

/// The number of single-character insertions, deletions and substitutions from `a` to `b`.
fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    let mut current = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        current[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitution.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        std::mem::swap(&mut previous, &mut current);
    }
    previous[b.len()]
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
