//! Stateful stubs: the scenario-state machines and key/value store of a mock, [`MockState`].
//!
//! A stub with `state: { machine, when, set }` matches only while its machine is in `when` and
//! moves it to `set` once it answered; every machine starts in `Started`. A stub with
//! `store: { set, delete }` writes rendered keys and values when it answers, and responses read
//! them back with `{{ store.KEY }}` or the `stored("prefix")` filter. Both are cleared by a reset.

use std::collections::BTreeMap;

use crate::scenario::model::{INITIAL_STATE, StateRule};

/// The machines and store of one mock.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct MockState {
    /// Machine name → current state; machines not listed are in `Started`.
    pub machines: BTreeMap<String, String>,
    /// The key/value store.
    pub store: BTreeMap<String, String>,
}

impl MockState {
    /// The current state of `machine`.
    pub(crate) fn machine(&self, machine: &str) -> &str {
        self.machines
            .get(machine)
            .map_or(INITIAL_STATE, String::as_str)
    }

    /// Whether a stub's rule lets it match now.
    pub(crate) fn allows(&self, rule: &StateRule) -> bool {
        rule.when
            .as_deref()
            .is_none_or(|when| self.machine(&rule.machine) == when)
    }

    /// Apply a stub's transition after it answered.
    pub(crate) fn transition(&mut self, rule: &StateRule) {
        if let Some(set) = &rule.set {
            self.machines.insert(rule.machine.clone(), set.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_start_in_started_and_move_on_set() {
        let mut state = MockState::default();
        let create = StateRule {
            machine: "bill".into(),
            when: Some("Started".into()),
            set: Some("Created".into()),
        };
        assert!(state.allows(&create));
        state.transition(&create);
        assert_eq!(state.machine("bill"), "Created");
        assert!(!state.allows(&create));
        assert_eq!(state.machine("other"), "Started");
    }
}
