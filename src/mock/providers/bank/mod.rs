//! `provider: bank`: a bank that delivers statement files rendered from the scenario's ledger
//! (MT940 in `mt940.rs`, BAI2 in `bai2.rs`, camt.053 in `camt.rs`) over HTTP. Settings:
//! [`BankSettings`](crate::scenario::model::BankSettings); documented in `docs/providers/bank.md`.

mod amounts;
pub(crate) mod bai2;
pub(crate) mod camt;
mod charset;
pub(crate) mod mt940;
