//! The virtual clock of a mock: a start instant plus an offset the runner advances.
