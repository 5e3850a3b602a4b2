//! BAI2 (BTRS) statements rendered from the ledger (not written yet: the base of issue 14's slice).

use time::OffsetDateTime;

use crate::scenario::model::{Bai2Options, BankAccount, BankIdentity, RenderedStatement};

/// The bytes of the file `statement` describes, for `accounts` (in `statement.accounts`
/// order), written by `bank` at `created_at`.
pub(crate) fn render(
    statement: &RenderedStatement,
    options: &Bai2Options,
    accounts: &[&BankAccount],
    bank: &BankIdentity,
    created_at: OffsetDateTime,
) -> Vec<u8> {
    let _ = (statement, options, accounts, bank, created_at);
    Vec::new()
}
