//! ISO 20022 camt.053 statements rendered from the ledger (not written yet: the base of issue
//! 14's slice).

use time::OffsetDateTime;

use crate::scenario::model::{BankAccount, BankIdentity, CamtOptions, RenderedStatement};

/// The messages of the file `statement` describes (one, or one per page with
/// `options.page_size`), for `accounts` (in `statement.accounts` order), written by `bank` at
/// `created_at`.
pub(crate) fn render(
    statement: &RenderedStatement,
    options: &CamtOptions,
    accounts: &[&BankAccount],
    bank: &BankIdentity,
    created_at: OffsetDateTime,
) -> Vec<Vec<u8>> {
    let _ = (statement, options, accounts, bank, created_at);
    Vec::new()
}
