//! Repeated items in JSON payloads: a generator node `{"$repeat": 1500, "item": {…}}` anywhere
//! in a payload (a flow request's `json` or `json_file`, a webhook step's `json`, a stub
//! response's `json` or `.json` `body_file`) renders to an array of `item` rendered 1,500
//! times, with `{{ index }}` (from 0) and `{{ number }}` (from 1) known inside it
//! ([`ItemVars`]).
//!
//! The count may be a template that renders to a whole number (`"{{ request.query.limit }}"`).
//! The loader checks each node (`crate::scenario::convert`): the count an integer or a
//! template of known variables, no key but `$repeat` and `item`, at most [`MAX_REPEAT_DEPTH`]
//! nested, at most [`MAX_REPEAT_ITEMS`] items in one payload. Rendering is bounded again ([`PayloadBudget`]), for payloads that
//! reach a mock through its control API without the loader: the items, the bytes the payload
//! renders to ([`MAX_RENDERED_BYTES`]), and the bytes its items' placeholders read
//! ([`MAX_ITEM_READ_BYTES`]: an item that reads a 4 MiB request body through `xpath` reads it
//! again for every item, which would take minutes for 100,000 items).

use std::cell::Cell;

use serde_json::{Map, Value};

use super::{MAX_RENDERED_BYTES, RenderError, Vars};

/// The key that makes a JSON object a generator node.
pub(crate) const REPEAT_KEY: &str = "$repeat";

/// The key of a generator node's item.
pub(crate) const ITEM_KEY: &str = "item";

/// Most items the generator nodes of one payload make, nested ones counted with their
/// multiplicity (`$repeat: 100` inside `$repeat: 1000` makes 100,000).
pub(crate) const MAX_REPEAT_ITEMS: u64 = 100_000;

/// Deepest nesting of generator nodes (a repeat inside an item of a repeat is depth 2).
pub(crate) const MAX_REPEAT_DEPTH: usize = 3;

/// Most bytes of values the placeholders of a payload's `$repeat` items may read in all.
pub(crate) const MAX_ITEM_READ_BYTES: usize = 64 * 1024 * 1024;

/// How many items a generator node makes, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Count<'a> {
    /// A number within [`MAX_REPEAT_ITEMS`].
    Fixed(u64),
    /// A template that renders to one (`"{{ request.query.limit }}"`).
    Template(&'a str),
}

/// The count and item of `map` when it is a generator node: `$repeat` an integer within
/// [`MAX_REPEAT_ITEMS`] or a template, and `item`, nothing else.
pub(crate) fn repeat_node(map: &Map<String, Value>) -> Option<(Count<'_>, &Value)> {
    let count = match map.get(REPEAT_KEY)? {
        Value::Number(n) => Count::Fixed(n.as_u64().filter(|n| *n <= MAX_REPEAT_ITEMS)?),
        Value::String(text) if text.contains("{{") => Count::Template(text),
        _ => return None,
    };
    let item = map.get(ITEM_KEY)?;
    (map.len() == 2).then_some((count, item))
}

/// A generator node's count, ready to render.
#[derive(Debug)]
pub(crate) enum PreparedCount {
    /// A number.
    Fixed(u64),
    /// A template that renders to a number.
    Template(super::Template),
}

impl PreparedCount {
    /// Parse `count`.
    pub(crate) fn new(count: Count<'_>) -> Result<PreparedCount, super::TemplateSyntaxError> {
        Ok(match count {
            Count::Fixed(n) => PreparedCount::Fixed(n),
            Count::Template(text) => PreparedCount::Template(super::Template::parse(text)?),
        })
    }

    /// The number of items: a template's text must be a whole number within
    /// [`MAX_REPEAT_ITEMS`].
    pub(crate) fn get(&self, vars: &dyn Vars) -> Result<u64, RenderError> {
        match self {
            PreparedCount::Fixed(n) => Ok(*n),
            PreparedCount::Template(template) => {
                let text = template.render(vars)?;
                text.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n <= MAX_REPEAT_ITEMS)
                    .ok_or_else(|| RenderError::RepeatCount {
                        value: text,
                        template: template.source().to_owned(),
                    })
            }
        }
    }
}

/// The variables inside a generator node's item: `index` and `number` of the item, everything
/// else from the outer variables (an inner repeat's `index` hides an outer one's); what its
/// placeholders read is charged to the payload's [`PayloadBudget`].
pub(crate) struct ItemVars<'a> {
    /// The variables around the node.
    pub outer: &'a dyn Vars,
    /// The item's position, from 0.
    pub index: u64,
    /// The payload's budget.
    pub budget: &'a PayloadBudget,
}

impl Vars for ItemVars<'_> {
    fn lookup(&self, path: &[String]) -> Option<String> {
        match path {
            [name] if name == "index" => Some(self.index.to_string()),
            [name] if name == "number" => Some((self.index + 1).to_string()),
            _ => self.outer.lookup(path),
        }
    }

    fn stored(&self, key: &str) -> Option<String> {
        self.outer.stored(key)
    }

    fn random(&self, value: super::RandomValue) -> Option<String> {
        self.outer.random(value)
    }

    fn charge(&self, bytes: usize) -> bool {
        let left = &self.budget.read;
        match left.get().checked_sub(bytes) {
            Some(rest) => {
                left.set(rest);
                true
            }
            None => false,
        }
    }
}

/// What one payload may still render: bytes (approximately: strings and keys by their length,
/// other values by a few bytes each), generated items, and bytes its items' placeholders read.
#[derive(Debug)]
pub(crate) struct PayloadBudget {
    bytes: Cell<usize>,
    items: Cell<u64>,
    read: Cell<usize>,
}

impl Default for PayloadBudget {
    fn default() -> Self {
        PayloadBudget {
            bytes: Cell::new(MAX_RENDERED_BYTES),
            items: Cell::new(MAX_REPEAT_ITEMS),
            read: Cell::new(MAX_ITEM_READ_BYTES),
        }
    }
}

impl PayloadBudget {
    /// Spend `bytes` of output; an error once the payload would pass [`MAX_RENDERED_BYTES`].
    pub(crate) fn spend(&self, bytes: usize) -> Result<(), RenderError> {
        let left = self.bytes.get().checked_sub(bytes);
        self.bytes.set(left.ok_or(RenderError::PayloadTooLarge)?);
        Ok(())
    }

    /// Spend `count` generated items; an error past [`MAX_REPEAT_ITEMS`].
    pub(crate) fn items(&self, count: u64) -> Result<(), RenderError> {
        let left = self.items.get().checked_sub(count);
        self.items.set(left.ok_or(RenderError::TooManyItems)?);
        Ok(())
    }

    /// Spend what `value` costs as it is (no templates in it).
    pub(crate) fn spend_value(&self, value: &Value) -> Result<(), RenderError> {
        self.spend(cost(value))
    }
}

/// The array of `count` items that `render_item` renders, each with its [`ItemVars`] (around
/// `vars`), within `budget`.
pub(crate) fn repeat_items(
    count: u64,
    vars: &dyn Vars,
    budget: &PayloadBudget,
    mut render_item: impl FnMut(&dyn Vars) -> Result<Value, RenderError>,
) -> Result<Value, RenderError> {
    budget.items(count)?;
    budget.spend(2)?;
    let mut items = Vec::new();
    for index in 0..count {
        items.push(render_item(&ItemVars {
            outer: vars,
            index,
            budget,
        })?);
    }
    Ok(Value::Array(items))
}

/// What a value costs in a [`PayloadBudget`]: its strings and keys by length, other values by
/// 8 bytes each. Computed in a loop, not by recursion.
pub(crate) fn cost(value: &Value) -> usize {
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(value) = stack.pop() {
        let own = match value {
            Value::String(text) => text.len() + 2,
            Value::Array(items) => {
                stack.extend(items);
                2
            }
            Value::Object(map) => {
                stack.extend(map.values());
                map.keys().map(|key| key.len() + 4).sum::<usize>() + 2
            }
            _ => 8,
        };
        total = total.saturating_add(own);
    }
    total
}

/// Render `value` (string leaves as templates, generator nodes expanded) within `budget`.
/// Strings that do not parse are kept as they are (the loader rejected malformed placeholders
/// in scenario payloads).
pub(crate) fn render_json_within(
    value: &Value,
    vars: &dyn Vars,
    budget: &PayloadBudget,
) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(text) if text.contains("{{") => match super::Template::parse(text) {
            Ok(template) => {
                let rendered = template.render(vars)?;
                budget.spend(rendered.len() + 2)?;
                Value::String(rendered)
            }
            Err(_) => {
                budget.spend_value(value)?;
                value.clone()
            }
        },
        Value::Array(items) => {
            budget.spend(2)?;
            Value::Array(
                items
                    .iter()
                    .map(|item| render_json_within(item, vars, budget))
                    .collect::<Result<_, _>>()?,
            )
        }
        Value::Object(map) => match repeat_node(map) {
            Some((count, item)) => {
                let count = PreparedCount::new(count)
                    .map_err(|_| RenderError::RepeatCount {
                        value: String::new(),
                        template: map[REPEAT_KEY].to_string(),
                    })?
                    .get(vars)?;
                repeat_items(count, vars, budget, |vars| {
                    render_json_within(item, vars, budget)
                })?
            }
            None => {
                budget.spend(2)?;
                let mut out = Map::with_capacity(map.len());
                for (key, item) in map {
                    budget.spend(key.len() + 4)?;
                    out.insert(key.clone(), render_json_within(item, vars, budget)?);
                }
                Value::Object(out)
            }
        },
        other => {
            budget.spend_value(other)?;
            other.clone()
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn none(_: &[String]) -> Option<String> {
        None
    }

    #[test]
    fn a_generator_node_renders_to_an_array_of_its_item() {
        let payload = json!({
            "bills": {"$repeat": 3, "item": {
                "id": "B-{{ number }}",
                "lines": {"$repeat": 2, "item": "{{ index }}"},
                "fixed": 1
            }},
            "empty": {"$repeat": 0, "item": 1}
        });
        let rendered = render_json_within(&payload, &none, &PayloadBudget::default()).unwrap();
        assert_eq!(
            rendered,
            json!({
                "bills": [
                    {"id": "B-1", "lines": ["0", "1"], "fixed": 1},
                    {"id": "B-2", "lines": ["0", "1"], "fixed": 1},
                    {"id": "B-3", "lines": ["0", "1"], "fixed": 1}
                ],
                "empty": []
            })
        );
    }

    #[test]
    fn a_count_may_be_a_template() {
        let lookup = |path: &[String]| match path.join(".").as_str() {
            "limit" => Some("2".to_owned()),
            "bad" => Some("two".to_owned()),
            _ => None,
        };
        let payload = json!({"$repeat": "{{ limit }}", "item": {"$repeat": "{{ number }}", "item": "{{ index }}"}});
        let rendered = render_json_within(&payload, &lookup, &PayloadBudget::default()).unwrap();
        assert_eq!(rendered, json!([["0"], ["0", "1"]]));
        let err = render_json_within(
            &json!({"$repeat": "{{ bad }}", "item": 1}),
            &lookup,
            &PayloadBudget::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "the `$repeat` count `two` (from `{{ bad }}`) is not a whole number from 0 to 100000"
        );
    }

    #[test]
    fn only_exact_generator_nodes_generate() {
        for plain in [
            json!({"$repeat": 2}),
            json!({"$repeat": 2, "item": 1, "other": 3}),
            json!({"$repeat": "2", "item": 1}),
            json!({"$repeat": -1, "item": 1}),
            json!({"$repeat": MAX_REPEAT_ITEMS + 1, "item": 1}),
        ] {
            let rendered = render_json_within(&plain, &none, &PayloadBudget::default()).unwrap();
            assert_eq!(rendered, plain);
        }
    }

    #[test]
    fn rendering_is_bounded_in_items_and_bytes() {
        let nested = json!({"$repeat": 1000, "item": {"$repeat": 101, "item": 0}});
        assert_eq!(
            render_json_within(&nested, &none, &PayloadBudget::default()).unwrap_err(),
            RenderError::TooManyItems
        );
        let big = "x".repeat(1 << 20);
        let lookup = |_: &[String]| Some(big.clone());
        let wide = json!({"$repeat": 17, "item": "{{ big }}"});
        let too_large = |value: &Value, vars: &dyn Vars| {
            matches!(
                render_json_within(value, vars, &PayloadBudget::default()),
                Err(RenderError::PayloadTooLarge)
            )
        };
        assert!(too_large(&wide, &lookup));
        // Literal items count too.
        assert!(too_large(
            &json!({"$repeat": 100_000, "item": "y".repeat(200)}),
            &none
        ));
        assert!(!too_large(
            &json!({"$repeat": 100_000, "item": "y".repeat(100)}),
            &none
        ));
        assert_eq!(cost(&json!({"ab": ["c", 1]})), 2 + 6 + 2 + 3 + 8);
        // Reads count across the items: a 1 MiB value read by each of 65 items is too much,
        // even when each item renders to one byte.
        let read = |items: u64| {
            let payload =
                json!({"$repeat": items, "item": "{{ big | stored(\"k:\") | default(\"x\") }}"});
            render_json_within(&payload, &lookup, &PayloadBudget::default())
        };
        assert!(read(64).is_ok());
        let err = read(65).unwrap_err();
        assert!(
            matches!(&err, RenderError::TooMuchRead { name, .. } if name == "big"),
            "{err}"
        );
        // Outside a `$repeat`, reads are not counted.
        let many = Value::Array(vec![
            json!("{{ big | stored(\"k:\") | default(\"x\") }}");
            80
        ]);
        assert!(render_json_within(&many, &lookup, &PayloadBudget::default()).is_ok());
    }
}
