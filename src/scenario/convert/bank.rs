//! `with:` of `provider: bank` → [`BankSettings`]: the bank, a ledger of accounts with their
//! transactions, the statement files rendered from it (or given as is) and the credentials the
//! routes require. Every mistake is a diagnostic at the offending node, with a hint: IBANs are
//! checked by length per country and ISO 7064 mod 97-10, BICs by the ISO 9362 pattern, amounts by
//! their currency's ISO 4217 minor units.

use std::collections::HashSet;

use rust_decimal::Decimal;
use time::format_description::well_known::Rfc3339;
use time::{Date, OffsetDateTime, Time};

use super::{Cx, Fields, list_keys, present};
use crate::money::minor_units;
use crate::scenario::diagnostic::Diagnostic;
use crate::scenario::model::{
    Bai2Options, BankAccount, BankAuth, BankIdentity, BankSettings, BankSftp, BankTransaction,
    CamtOptions, CamtVersion, Counterparty, Mt940Options, RenderedStatement, SecretText,
    SftpCredential, SftpUser, StatementContent, StatementFile, StatementFormat, split_extension,
};
use crate::scenario::suggest::did_you_mean;
use crate::scenario::yaml::Node;

pub(super) const BANK_KEYS: &[&str] =
    &["bank", "accounts", "statements", "auth", "payments", "sftp"];
pub(super) const BANK_IDENTITY_KEYS: &[&str] = &["bic", "name", "routing"];
pub(super) const BANK_ACCOUNT_KEYS: &[&str] = &[
    "id",
    "iban",
    "number",
    "currency",
    "owner",
    "opening",
    "transactions",
];
pub(super) const BANK_OPENING_KEYS: &[&str] = &["date", "balance"];
pub(super) const BANK_TRANSACTION_KEYS: &[&str] = &[
    "booked",
    "value",
    "amount",
    "code",
    "counterparty",
    "end_to_end_id",
    "bank_ref",
    "customer_ref",
    "purpose",
    "reversal",
];
pub(super) const BANK_COUNTERPARTY_KEYS: &[&str] = &["name", "iban", "bic"];
pub(super) const BANK_STATEMENT_KEYS: &[&str] = &[
    "name",
    "file",
    "format",
    "accounts",
    "from",
    "to",
    "sequence",
    "available_at",
    "created_at",
    "page_size",
    "line_ending",
    "details",
    "record_length",
    "as_of_time",
];
pub(super) const BANK_AUTH_KEYS: &[&str] = &["basic", "bearer"];
pub(super) const BANK_BASIC_KEYS: &[&str] = &["username", "password"];
pub(super) const BANK_SFTP_KEYS: &[&str] = &["users", "inbox", "outbox", "host_key"];
pub(super) const BANK_SFTP_USER_KEYS: &[&str] = &["username", "password", "public_key"];

/// The formats a statement is rendered in, by the name a scenario writes.
pub(super) const STATEMENT_FORMATS: &[&str] =
    &["mt940", "bai2", "camt.053.001.02", "camt.053.001.08"];

/// Keys of a statement that describe a rendering: not with `file:`.
const RENDERING_SWITCHES: &[&str] = &[
    "format",
    "accounts",
    "from",
    "to",
    "sequence",
    "created_at",
    "page_size",
    "line_ending",
    "details",
    "record_length",
    "as_of_time",
];

/// Format-specific keys and the formats that take them.
const FORMAT_KEYS: &[(&str, &[&str])] = &[
    (
        "page_size",
        &["mt940", "camt.053.001.02", "camt.053.001.08"],
    ),
    ("line_ending", &["mt940"]),
    ("details", &["mt940"]),
    ("record_length", &["bai2"]),
    ("as_of_time", &["bai2"]),
];

/// The most accounts a bank holds (reenact's bound).
const MAX_ACCOUNTS: usize = 100;
/// The most transactions of all accounts together (reenact's bound).
const MAX_TRANSACTIONS: usize = 50_000;
/// The most statement files (reenact's bound).
const MAX_STATEMENTS: usize = 1_000;
/// The most transaction lines all rendered statements together may hold, so that rendering
/// every file once at start stays bounded (reenact's bound).
const MAX_RENDERED_LINES: usize = 200_000;
/// The longest file name.
const MAX_NAME: usize = 255;
/// The longest reference (camt `Max35Text`: `EndToEndId`, `AcctSvcrRef`).
const MAX_REF: usize = 35;
/// The longest name or free text (camt `Max140Text`: `Nm`, one `Ustrd`).
const MAX_NAME_TEXT: usize = 140;
/// The longest purpose text.
const MAX_PURPOSE: usize = 1024;
/// The longest account number (camt `Othr/Id` is `Max34Text`).
const MAX_NUMBER: usize = 34;
/// The most SFTP users a bank declares.
const MAX_SFTP_USERS: usize = 100;
/// The longest SFTP user name (OpenSSH's own limit is the login name's, 32 on Linux; banks
/// hand out longer ones).
const MAX_SFTP_USERNAME: usize = 64;
/// The longest SFTP folder name.
const MAX_SFTP_FOLDER: usize = 64;

/// Why a text is not an IBAN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum IbanProblem {
    /// Not two letters, two digits and letters or digits.
    Shape,
    /// A country the IBAN registry does not list.
    Country(String),
    /// The wrong length for its country.
    Length { country: String, expected: usize },
    /// The mod-97 check fails.
    Checksum,
}

/// `text` as a compact, upper-case IBAN (spaces removed), or why it is not one: the shape, the
/// length the SWIFT IBAN registry gives its country and ISO 7064 MOD 97-10 (ISO 13616; the
/// table and the check are the secret masker's, [`crate::secrets::iban_length`]).
pub(crate) fn check_iban(text: &str) -> Result<String, IbanProblem> {
    let compact: String = text
        .chars()
        .filter(|c| *c != ' ')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = compact.as_bytes();
    if bytes.len() < 5
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(IbanProblem::Shape);
    }
    let country = &compact[..2];
    let Some(expected) = crate::secrets::iban_length(country) else {
        return Err(IbanProblem::Country(country.to_owned()));
    };
    if compact.len() != expected {
        return Err(IbanProblem::Length {
            country: country.to_owned(),
            expected,
        });
    }
    if crate::secrets::iban_checksum_holds(compact.as_bytes()) {
        Ok(compact)
    } else {
        Err(IbanProblem::Checksum)
    }
}

/// Whether `text` is a BIC as ISO 9362 writes it and the camt.053.001.02 schema's
/// `BICIdentifier` pattern allows (`[A-Z]{6,6}[A-Z2-9][A-NP-Z0-9]([A-Z0-9]{3,3}){0,1}`, which
/// the .001.08 pattern also allows): 8 or 11 characters.
pub(crate) fn is_bic(text: &str) -> bool {
    let b = text.as_bytes();
    (b.len() == 8 || b.len() == 11)
        && b[..6].iter().all(u8::is_ascii_uppercase)
        && (b[6].is_ascii_uppercase() || (b'2'..=b'9').contains(&b[6]))
        && ((b[7].is_ascii_uppercase() && b[7] != b'O') || b[7].is_ascii_digit())
        && b[8..]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// What a statement item holds before its accounts are checked against the ledger.
struct StatementDraft<'n> {
    file: StatementFile,
    /// The `accounts` node, to locate an unknown id.
    accounts_node: Option<&'n Node>,
    /// The `from` node, to locate a day before an account's opening.
    from_node: Option<&'n Node>,
    /// The name node.
    name_node: &'n Node,
    /// `in statement N of mock M`.
    context: String,
}

impl Cx<'_> {
    /// `with:` of `provider: bank`.
    pub(super) fn bank(&mut self, node: &Node, mock: &str) -> Option<BankSettings> {
        let context = format!("in `with` of mock `{mock}`");
        let fields = self.fields(node, BANK_KEYS, "with", &context)?;
        let bank = self.required(&fields, "bank", &context, |cx, value| {
            cx.bank_identity(value, mock)
        });
        // A bank that only takes payments needs no ledger: with `payments`, `accounts` and
        // `statements` may be left out (not given empty).
        let payments_only = fields.has("payments");
        let accounts = match fields.get("accounts") {
            None if payments_only => Some(Vec::new()),
            _ => self.required(&fields, "accounts", &context, |cx, value| {
                cx.bank_accounts(value, mock)
            }),
        };
        let statements = match fields.get("statements") {
            None if payments_only => Some((Vec::new(), true)),
            _ => self.required(&fields, "statements", &context, |cx, value| {
                cx.bank_statements(value, mock)
            }),
        };
        let auth = fields.get("auth").map(|value| self.bank_auth(value, mock));
        let sftp = fields.get("sftp").map(|value| self.bank_sftp(value, mock));
        let payments = fields
            .get("payments")
            .map(|value| self.bank_payments(value, mock));
        let (drafts, statements_ok) = statements?;
        let accounts = accounts?;
        let statements = self.bank_check_statements(drafts, &accounts, mock)?;
        if !statements_ok {
            return None;
        }
        Some(BankSettings {
            bank: bank?,
            accounts,
            statements,
            auth: present(auth)?,
            sftp: present(sftp)?,
            payments: present(payments)?.unwrap_or_default(),
        })
    }

    /// Text of 1 to `max` characters without control characters.
    fn bank_text(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        max: usize,
        help: &str,
    ) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        let length = text.chars().count();
        if !text.trim().is_empty() && length <= max && !text.chars().any(char::is_control) {
            return Some(text);
        }
        self.error(
            Diagnostic::new(format!("invalid `{key}` {context}"), Some(node.span))
                .with_label(format!(
                    "expected 1 to {max} characters without control characters, found {length}"
                ))
                .with_help(help.to_owned()),
        );
        None
    }

    /// A BIC (ISO 9362): 8 or 11 characters.
    fn bank_bic(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        if is_bic(&text) {
            return Some(text);
        }
        let mut diagnostic = Diagnostic::new(
            format!("invalid BIC `{text}` for `{key}` {context}"),
            Some(node.span),
        )
        .with_label("expected 8 or 11 characters: 4 letters (bank), 2 letters (country), 2 letters or digits (location), optionally 3 (branch)");
        let upper = text.replace(' ', "").to_ascii_uppercase();
        diagnostic = if upper != text && is_bic(&upper) {
            diagnostic.with_help(format!("did you mean `{upper}`?"))
        } else {
            diagnostic.with_help("e.g. `DEUTDEFF` or `DEUTDEFFXXX` (ISO 9362)")
        };
        self.error(diagnostic);
        None
    }

    /// An IBAN (ISO 13616): spaces allowed and removed, stored upper case.
    pub(super) fn bank_iban(&mut self, node: &Node, key: &str, context: &str) -> Option<String> {
        let text = self.scalar_text(node, key, context)?;
        let label = match check_iban(&text) {
            Ok(iban) => return Some(iban),
            Err(IbanProblem::Shape) => {
                "expected 2 letters (country), 2 check digits, then letters and digits".to_owned()
            }
            Err(IbanProblem::Country(country)) => {
                format!("`{country}` is not a country of the SWIFT IBAN registry")
            }
            Err(IbanProblem::Length { country, expected }) => format!(
                "an IBAN of `{country}` has {expected} characters, this one {}",
                text.chars().filter(|c| *c != ' ').count()
            ),
            Err(IbanProblem::Checksum) => {
                "the check digits do not match (ISO 7064 mod 97-10)".to_owned()
            }
        };
        self.error(
            Diagnostic::new(
                format!("invalid IBAN for `{key}` {context}"),
                Some(node.span),
            )
            .with_label(label)
            .with_help("write the IBAN as the bank gives it, spaces allowed (`DE89 3704 …`); for an account without one write `number:`"),
        );
        None
    }

    /// A calendar date `YYYY-MM-DD`.
    fn bank_date(&mut self, node: &Node, key: &str, context: &str) -> Option<Date> {
        let text = self.date(node, key, context)?;
        Date::parse(
            &text,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()
    }

    /// An RFC 3339 time on the virtual clock.
    fn bank_time(&mut self, node: &Node, key: &str, context: &str) -> Option<OffsetDateTime> {
        let text = self.rfc3339_time(node, key, context)?;
        OffsetDateTime::parse(&text, &Rfc3339).ok()
    }

    /// An amount in `currency`: a decimal text (`"-250.00"`), with at most the currency's
    /// minor units as decimals.
    fn bank_amount(
        &mut self,
        node: &Node,
        key: &str,
        context: &str,
        currency: Option<&str>,
    ) -> Option<Decimal> {
        let text = self.scalar_text(node, key, context)?;
        let Some(amount) = crate::money::parse_text(&text) else {
            self.error(
                Diagnostic::new(
                    format!("invalid amount `{text}` for `{key}` {context}"),
                    Some(node.span),
                )
                .with_label("expected a decimal with a `.`: an optional `-`, up to 20 digits, up to 4 decimals")
                .with_help("e.g. `\"-250.00\"` (negative: a debit, or an overdrawn balance)"),
            );
            return None;
        };
        let currency = currency?;
        let units = minor_units(currency);
        if amount.scale() <= units {
            return Some(amount);
        }
        self.error(
            Diagnostic::new(
                format!(
                    "amount `{text}` for `{key}` {context} has more decimals than {currency} takes"
                ),
                Some(node.span),
            )
            .with_label(format!(
                "{currency} has {units} decimals (ISO 4217 minor units)"
            ))
            .with_help(match units {
                0 => "write whole units, e.g. `\"2700\"`".to_owned(),
                _ => format!("write at most {units} decimals"),
            }),
        );
        None
    }

    /// `with.bank`: `{ bic, name, routing? }`.
    fn bank_identity(&mut self, node: &Node, mock: &str) -> Option<BankIdentity> {
        let context = format!("in `bank` of mock `{mock}`");
        let fields = self.fields(node, BANK_IDENTITY_KEYS, "bank", &context)?;
        let bic = self.required(&fields, "bic", &context, |cx, value| {
            cx.bank_bic(value, "bic", &context)
        });
        let name = self.required(&fields, "name", &context, |cx, value| {
            cx.bank_text(
                value,
                "name",
                &context,
                MAX_NAME_TEXT,
                "the bank's name, e.g. `Deutsche Bank AG`",
            )
        });
        let routing = fields.get("routing").map(|value| {
            let text = self.scalar_text(value, "routing", &context)?;
            if !text.is_empty()
                && text.len() <= MAX_REF
                && text.bytes().all(|b| b.is_ascii_graphic() && b != b',' && b != b'/')
            {
                return Some(text);
            }
            self.error(
                Diagnostic::new(format!("invalid `routing` {context}"), Some(value.span))
                    .with_label(format!(
                        "expected 1 to {MAX_REF} printable characters without spaces, `,` or `/` (BAI2 field delimiters)"
                    ))
                    .with_help("the BAI2 sender identification, e.g. a routing number `\"021000021\"`"),
            );
            None
        });
        let bic = bic?;
        let routing = match routing {
            Some(routing) => routing?,
            None => bic.clone(),
        };
        Some(BankIdentity {
            bic,
            name: name?,
            routing,
        })
    }

    /// `with.accounts`: at least one, ids unique, transactions sorted by booking date.
    fn bank_accounts(&mut self, node: &Node, mock: &str) -> Option<Vec<BankAccount>> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "accounts",
            &context,
            "give at least one account: `{ id: operating, iban: …, currency: EUR, opening: { date: 2026-11-02, balance: \"0.00\" } }`",
        )?;
        if let Some(extra) = items.get(MAX_ACCOUNTS) {
            self.error(
                Diagnostic::new(
                    format!("more than {MAX_ACCOUNTS} `accounts` {context}"),
                    Some(extra.span),
                )
                .with_label("the limit is crossed here"),
            );
            return None;
        }
        let account_context = |index: usize| format!("in account {} of mock `{mock}`", index + 1);
        let accounts = self.unique_items(
            items,
            super::read::AfterBad::Report,
            |cx, index, item| cx.bank_account(item, &account_context(index)),
            |account| Some(account.id.clone()),
            |index, _, id| {
                (
                    format!("duplicate account id `{id}` {}", account_context(index)),
                    "every account's `id` must be unique",
                )
            },
        )?;
        let total: usize = accounts.iter().map(|a| a.transactions.len()).sum();
        if total > MAX_TRANSACTIONS {
            self.error(
                Diagnostic::new(
                    format!("the accounts {context} hold {total} transactions, more than {MAX_TRANSACTIONS}"),
                    Some(node.span),
                )
                .with_label("too many transactions")
                .with_help("an incident needs a few; split a long history into several scenarios"),
            );
            return None;
        }
        Some(accounts)
    }

    fn bank_account(&mut self, node: &Node, context: &str) -> Option<BankAccount> {
        let fields = self.fields(node, BANK_ACCOUNT_KEYS, "accounts", context)?;
        let id = self.required(&fields, "id", context, |cx, value| {
            let text = cx.scalar_text(value, "id", context)?;
            if !text.is_empty()
                && text.len() <= 64
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
            {
                return Some(text);
            }
            cx.error(
                Diagnostic::new(format!("invalid account `id` {context}"), Some(value.span))
                    .with_label("expected 1 to 64 letters, digits, `_`, `.` or `-`")
                    .with_help("the name statements list the account by, e.g. `operating`"),
            );
            None
        });
        let has_number = self.bank_one_identifier(&fields, context);
        let iban = fields
            .get("iban")
            .map(|value| self.bank_iban(value, "iban", context));
        let number = fields.get("number").map(|value| {
            let text = self.scalar_text(value, "number", context)?;
            if !text.is_empty()
                && text.len() <= MAX_NUMBER
                && text.bytes().all(|b| b.is_ascii_graphic())
            {
                return Some(text);
            }
            self.error(
                Diagnostic::new(format!("invalid account `number` {context}"), Some(value.span))
                    .with_label(format!("expected 1 to {MAX_NUMBER} printable characters without spaces"))
                    .with_help("e.g. `\"0123456789\"` or `\"37040044/0532013000\"`; quote numbers with leading zeros"),
            );
            None
        });
        let currency = self.required(&fields, "currency", context, |cx, value| {
            let text = cx.scalar_text(value, "currency", context)?;
            if text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase()) {
                return Some(text);
            }
            let upper = text.to_ascii_uppercase();
            let mut diagnostic = Diagnostic::new(
                format!("invalid `currency` `{text}` {context}"),
                Some(value.span),
            )
            .with_label("expected an ISO 4217 code: 3 capital letters");
            diagnostic = if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
                diagnostic.with_help(format!("did you mean `{upper}`?"))
            } else {
                diagnostic.with_help("e.g. `EUR`, `USD`, `JPY`")
            };
            cx.error(diagnostic);
            None
        });
        let owner = fields.get("owner").map(|value| {
            self.bank_text(
                value,
                "owner",
                context,
                MAX_NAME_TEXT,
                "the account holder's name",
            )
        });
        let opening = self.required(&fields, "opening", context, |cx, value| {
            let opening_context = format!("in `opening` of {}", context.trim_start_matches("in "));
            let opening = cx.fields(value, BANK_OPENING_KEYS, "opening", &opening_context)?;
            let date = cx.required(&opening, "date", &opening_context, |cx, value| {
                cx.bank_date(value, "date", &opening_context)
            });
            let balance = cx.required(&opening, "balance", &opening_context, |cx, value| {
                cx.bank_amount(value, "balance", &opening_context, currency.as_deref())
            });
            Some((date, balance))
        });
        let opening_date = opening.and_then(|(date, _)| date);
        let transactions = match fields.get("transactions") {
            Some(value) => {
                let items = self.list(value, "transactions", context)?;
                if items.len() > MAX_TRANSACTIONS {
                    self.error(
                        Diagnostic::new(
                            format!("more than {MAX_TRANSACTIONS} `transactions` {context}"),
                            Some(value.span),
                        )
                        .with_label("too many transactions"),
                    );
                    return None;
                }
                self.each_item(items, |cx, index, item| {
                    let tx_context = format!(
                        "in transaction {} of {}",
                        index + 1,
                        context.trim_start_matches("in ")
                    );
                    cx.bank_transaction(item, &tx_context, currency.as_deref(), opening_date)
                })
            }
            None => Some(Vec::new()),
        };
        let (opening_date, opening_balance) = opening?;
        let (opening_date, opening_balance) = (opening_date?, opening_balance?);
        let mut transactions = transactions?;
        transactions.sort_by_key(|tx| tx.booked);
        if !has_number {
            return None;
        }
        Some(BankAccount {
            id: id?,
            iban: present(iban)?,
            number: present(number)?,
            currency: currency?,
            owner: present(owner)?,
            opening_balance,
            opening_date,
            transactions,
        })
    }

    /// Exactly one of `iban` and `number`.
    fn bank_one_identifier(&mut self, fields: &Fields<'_>, context: &str) -> bool {
        if !self.at_most_one(fields, &["iban", "number"], context) {
            return false;
        }
        if fields.has("iban") || fields.has("number") {
            return true;
        }
        if fields.has_typo_of("iban") || fields.has_typo_of("number") {
            return false;
        }
        self.error(
            Diagnostic::new(
                format!("missing `iban` or `number` {context}"),
                Some(fields.node.span),
            )
            .with_label("an account needs an identifier")
            .with_help(
                "write `iban:` with the account's IBAN, or `number:` for an account without one",
            ),
        );
        false
    }

    fn bank_transaction(
        &mut self,
        node: &Node,
        context: &str,
        currency: Option<&str>,
        opening: Option<Date>,
    ) -> Option<BankTransaction> {
        let fields = self.fields(node, BANK_TRANSACTION_KEYS, "transactions", context)?;
        let booked = self.required(&fields, "booked", context, |cx, value| {
            let booked = cx.bank_date(value, "booked", context)?;
            match opening {
                Some(opening) if booked < opening => {
                    cx.error(
                        Diagnostic::new(
                            format!("`booked` {booked} {context} is before the account's opening date {opening}"),
                            Some(value.span),
                        )
                        .with_label("the opening balance is the balance at the start of the opening date")
                        .with_help("book it on or after the opening date, or move `opening.date` earlier"),
                    );
                    None
                }
                _ => Some(booked),
            }
        });
        let value = fields
            .get("value")
            .map(|value| self.bank_date(value, "value", context));
        let amount = self.required(&fields, "amount", context, |cx, value| {
            cx.bank_amount(value, "amount", context, currency)
        });
        let code = fields.get("code").map(|value| {
            self.bank_text(
                value,
                "code",
                context,
                MAX_REF,
                "the bank's transaction code: `NTRF` (MT940), `195` (BAI2), `PMNT/RCDT/ESCT` (camt)",
            )
        });
        let counterparty = fields
            .get("counterparty")
            .map(|value| self.bank_counterparty(value, context));
        let reference = |cx: &mut Self, key: &str, help: &str| {
            fields
                .get(key)
                .map(|value| cx.bank_text(value, key, context, MAX_REF, help))
        };
        let end_to_end_id = reference(
            self,
            "end_to_end_id",
            "the payer's end-to-end id, e.g. `E2E-4711`",
        );
        let bank_ref = reference(
            self,
            "bank_ref",
            "the bank's reference, e.g. `B26110200001`",
        );
        let customer_ref = reference(
            self,
            "customer_ref",
            "the customer's reference, e.g. `INV-42`",
        );
        let purpose = fields.get("purpose").map(|value| {
            self.bank_text(
                value,
                "purpose",
                context,
                MAX_PURPOSE,
                "the remittance information, e.g. `Invoice 42`",
            )
        });
        let reversal = match fields.get("reversal") {
            Some(value) => self.boolean(value, "reversal", context),
            None => Some(false),
        };
        let booked = booked?;
        let value = match value {
            Some(value) => value?,
            None => booked,
        };
        Some(BankTransaction {
            booked,
            value,
            amount: amount?,
            reversal: reversal?,
            code: present(code)?,
            counterparty: present(counterparty)?,
            end_to_end_id: present(end_to_end_id)?,
            bank_ref: present(bank_ref)?,
            customer_ref: present(customer_ref)?,
            purpose: present(purpose)?,
        })
    }

    fn bank_counterparty(&mut self, node: &Node, context: &str) -> Option<Counterparty> {
        let context = format!("in `counterparty` of {}", context.trim_start_matches("in "));
        let fields = self.fields(node, BANK_COUNTERPARTY_KEYS, "counterparty", &context)?;
        let name = self.required(&fields, "name", &context, |cx, value| {
            cx.bank_text(
                value,
                "name",
                &context,
                MAX_NAME_TEXT,
                "the other party's name, e.g. `Lumen Lab`",
            )
        });
        let iban = fields
            .get("iban")
            .map(|value| self.bank_iban(value, "iban", &context));
        let bic = fields
            .get("bic")
            .map(|value| self.bank_bic(value, "bic", &context));
        Some(Counterparty {
            name: name?,
            iban: present(iban)?,
            bic: present(bic)?,
        })
    }

    /// `with.statements`: each a rendered statement or a `file:`, names unique; the good ones,
    /// and whether every one was good.
    fn bank_statements<'n>(
        &mut self,
        node: &'n Node,
        mock: &str,
    ) -> Option<(Vec<StatementDraft<'n>>, bool)> {
        let context = format!("in `with` of mock `{mock}`");
        let items = self.list(node, "statements", &context)?;
        if let Some(extra) = items.get(MAX_STATEMENTS) {
            self.error(
                Diagnostic::new(
                    format!("more than {MAX_STATEMENTS} `statements` {context}"),
                    Some(extra.span),
                )
                .with_label("the limit is crossed here"),
            );
            return None;
        }
        let mut ok = true;
        let mut drafts = Vec::with_capacity(items.len());
        let mut names: HashSet<String> = HashSet::new();
        for (index, item) in items.iter().enumerate() {
            let statement_context = format!("in statement {} of mock `{mock}`", index + 1);
            let Some(draft) = self.bank_statement(item, &statement_context) else {
                ok = false;
                continue;
            };
            if !names.insert(draft.file.name.clone()) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "duplicate file name `{}` {statement_context}",
                            draft.file.name
                        ),
                        Some(draft.name_node.span),
                    )
                    .with_label("every statement file's `name` must be unique"),
                );
                ok = false;
                continue;
            }
            drafts.push(draft);
        }
        Some((drafts, ok))
    }

    fn bank_statement<'n>(&mut self, node: &'n Node, context: &str) -> Option<StatementDraft<'n>> {
        let fields = self.fields(node, BANK_STATEMENT_KEYS, "statements", context)?;
        let name_node = fields.get("name");
        let name = self.required(&fields, "name", context, |cx, value| {
            cx.bank_file_name(value, context)
        });
        let available_at = fields
            .get("available_at")
            .map(|value| self.bank_time(value, "available_at", context));
        if let Some(file) = fields.get("file") {
            let mut ok = true;
            for key in RENDERING_SWITCHES {
                if let Some(key_node) = fields.key(key) {
                    self.error(
                        Diagnostic::new(
                            format!("`{key}` cannot go with `file` {context}"),
                            Some(key_node.span),
                        )
                        .with_label("a `file:` statement is delivered as it is, not rendered")
                        .with_help(format!(
                            "remove `{key}`, or remove `file` to render the statement from the ledger"
                        )),
                    );
                    ok = false;
                }
            }
            let bytes = self
                .read_file(file, "file", context)
                .map(|(_, bytes)| bytes);
            let available_at = present(available_at)?;
            let created_at = available_at.unwrap_or(OffsetDateTime::UNIX_EPOCH);
            if !ok {
                return None;
            }
            return Some(StatementDraft {
                file: StatementFile {
                    name: name?,
                    available_at,
                    created_at,
                    content: StatementContent::Raw { bytes: bytes? },
                },
                accounts_node: None,
                from_node: None,
                name_node: name_node?,
                context: context.to_owned(),
            });
        }
        let format_node = fields.get("format");
        let format_name = self.required(&fields, "format", context, |cx, value| {
            let text = cx.string(value, "format", context)?;
            if STATEMENT_FORMATS.contains(&text.as_str()) {
                return Some(text);
            }
            let mut diagnostic = Diagnostic::new(
                format!("unknown statement `format` `{text}` {context}"),
                Some(value.span),
            )
            .with_label(format!("expected one of {}", list_keys(STATEMENT_FORMATS)));
            diagnostic = match did_you_mean(&text, STATEMENT_FORMATS) {
                Some(suggestion) => diagnostic.with_help(format!("did you mean `{suggestion}`?")),
                None => diagnostic
                    .with_help("or deliver a file as it is with `file: payloads/bank/FILE`"),
            };
            cx.error(diagnostic);
            None
        });
        let mut ok = true;
        if let Some(format) = &format_name {
            for (key, formats) in FORMAT_KEYS {
                if let Some(key_node) = fields.key(key)
                    && !formats.contains(&format.as_str())
                {
                    self.error(
                        Diagnostic::new(
                            format!("`{key}` does not apply to format `{format}` {context}"),
                            Some(key_node.span),
                        )
                        .with_label(format!("`{key}` is a switch of {}", list_keys(formats)))
                        .with_help(format!("remove `{key}`")),
                    );
                    ok = false;
                }
            }
        }
        let accounts_node = fields.get("accounts");
        let accounts = self.required(&fields, "accounts", context, |cx, value| {
            let items = cx.non_empty_list(
                value,
                "accounts",
                context,
                "name at least one account by its `id`",
            )?;
            let mut seen = HashSet::new();
            cx.each_item(items, |cx, _, item| {
                let id = cx.string(item, "accounts", context)?;
                if seen.insert(id.clone()) {
                    return Some(id);
                }
                cx.error(
                    Diagnostic::new(
                        format!("account `{id}` is listed twice {context}"),
                        Some(item.span),
                    )
                    .with_label("a statement covers each account once"),
                );
                None
            })
        });
        let from_node = fields.get("from");
        let from = self.required(&fields, "from", context, |cx, value| {
            cx.bank_date(value, "from", context)
        });
        let to = fields.get("to").map(|value| {
            let to = self.bank_date(value, "to", context)?;
            if let Some(from) = from
                && to < from
            {
                self.error(
                    Diagnostic::new(
                        format!("`to` {to} {context} is before `from` {from}"),
                        Some(value.span),
                    )
                    .with_label("a statement covers the days from `from` to `to`, both included")
                    .with_help("swap them, or leave `to` out for a one-day statement"),
                );
                return None;
            }
            Some(to)
        });
        let number = |cx: &mut Self, key: &str, range: std::ops::RangeInclusive<u64>| {
            fields.get(key).map(|value| {
                cx.integer(value, key, context, range)
                    .and_then(|n| u32::try_from(n).ok())
            })
        };
        let sequence = number(self, "sequence", 1..=99_999);
        let page_size = number(self, "page_size", 1..=10_000);
        let record_length = number(self, "record_length", 20..=9_999);
        let switch =
            |cx: &mut Self, key: &str, options: &[(&str, bool)], default: bool| match fields
                .get(key)
            {
                Some(value) => cx.choice(value, key, context, options),
                None => Some(default),
            };
        let crlf = switch(self, "line_ending", &[("crlf", true), ("lf", false)], true);
        let structured = switch(
            self,
            "details",
            &[("free", false), ("structured", true)],
            false,
        );
        let end_of_day = switch(
            self,
            "as_of_time",
            &[("created", false), ("end_of_day", true)],
            false,
        );
        let created_at = fields
            .get("created_at")
            .map(|value| self.bank_time(value, "created_at", context));
        let sequence = present(sequence)?.unwrap_or(1);
        let page_size = present(page_size)?;
        let format = match format_name?.as_str() {
            "mt940" => StatementFormat::Mt940(Mt940Options {
                page_size,
                crlf: crlf?,
                structured_details: structured?,
            }),
            "bai2" => StatementFormat::Bai2(Bai2Options {
                record_length: present(record_length)?,
                end_of_day_time: end_of_day?,
            }),
            "camt.053.001.02" => StatementFormat::Camt053(CamtOptions {
                version: CamtVersion::V02,
                page_size,
            }),
            _ => StatementFormat::Camt053(CamtOptions {
                version: CamtVersion::V08,
                page_size,
            }),
        };
        let from = from?;
        let to = match to {
            Some(to) => to?,
            None => from,
        };
        let available_at = present(available_at)?;
        let created_at = match present(created_at)? {
            Some(at) => at,
            None => match available_at {
                Some(at) => at,
                None => {
                    let Some(next) = to.next_day() else {
                        self.error(
                            Diagnostic::new(
                                format!("`to` {to} {context} is the last day a date can be"),
                                format_node.map(|n| n.span),
                            )
                            .with_label("the default `created_at` is the next day at 06:00Z")
                            .with_help("give `created_at`"),
                        );
                        return None;
                    };
                    next.with_time(Time::from_hms(6, 0, 0).ok()?).assume_utc()
                }
            },
        };
        if !ok {
            return None;
        }
        Some(StatementDraft {
            file: StatementFile {
                name: name?,
                available_at,
                created_at,
                content: StatementContent::Rendered(RenderedStatement {
                    accounts: accounts?,
                    from,
                    to,
                    sequence,
                    format,
                }),
            },
            accounts_node,
            from_node,
            name_node: name_node?,
            context: context.to_owned(),
        })
    }

    /// A file name: 1 to 255 characters, no `/`, `\` or control characters, not `.` or `..`.
    fn bank_file_name(&mut self, node: &Node, context: &str) -> Option<String> {
        let text = self.scalar_text(node, "name", context)?;
        let problem = if text.is_empty() || text.chars().count() > MAX_NAME {
            format!("expected 1 to {MAX_NAME} characters")
        } else if text.contains('/') || text.contains('\\') {
            "a file name has no `/` or `\\`: the files are listed flat".to_owned()
        } else if text.chars().any(char::is_control) {
            "control characters are not allowed".to_owned()
        } else if text == "." || text == ".." {
            "`.` and `..` are not file names".to_owned()
        } else {
            return Some(text);
        };
        self.error(
            Diagnostic::new(
                format!("invalid file `name` `{text}` {context}"),
                Some(node.span),
            )
            .with_label(problem)
            .with_help("e.g. `operating-2026-11-02.sta`"),
        );
        None
    }

    /// The statements against the ledger: every account known, `from` not before its opening
    /// date, the rendered lines bounded, and no file named as another one's camt page.
    fn bank_check_statements(
        &mut self,
        drafts: Vec<StatementDraft<'_>>,
        accounts: &[BankAccount],
        mock: &str,
    ) -> Option<Vec<StatementFile>> {
        let ids: Vec<&str> = accounts.iter().map(|a| a.id.as_str()).collect();
        let mut ok = true;
        let mut lines = 0usize;
        let paged: Vec<(String, String)> = drafts
            .iter()
            .filter_map(|draft| match &draft.file.content {
                StatementContent::Rendered(RenderedStatement {
                    format:
                        StatementFormat::Camt053(CamtOptions {
                            page_size: Some(_), ..
                        }),
                    ..
                }) => {
                    let (stem, ext) = split_extension(&draft.file.name);
                    Some((format!("{stem}-p"), ext.to_owned()))
                }
                _ => None,
            })
            .collect();
        for draft in &drafts {
            let context = &draft.context;
            let name = &draft.file.name;
            if let Some((prefix, ext)) = paged.iter().find(|(prefix, ext)| {
                name.strip_prefix(prefix.as_str())
                    .and_then(|rest| rest.strip_suffix(ext.as_str()))
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
            }) {
                self.error(
                    Diagnostic::new(
                        format!(
                            "file name `{name}` {context} is a page name of a paginated camt file"
                        ),
                        Some(draft.name_node.span),
                    )
                    .with_label(format!(
                        "the pages of a camt file with `page_size` are listed as `{prefix}N{ext}`"
                    ))
                    .with_help("rename one of the two files"),
                );
                ok = false;
            }
            let StatementContent::Rendered(statement) = &draft.file.content else {
                continue;
            };
            for id in &statement.accounts {
                let Some(account) = accounts.iter().find(|a| &a.id == id) else {
                    let mut diagnostic = Diagnostic::new(
                        format!("unknown account `{id}` {context}"),
                        draft.accounts_node.map(|n| n.span),
                    )
                    .with_label(format!("accounts: {}", list_keys(&ids)));
                    if let Some(suggestion) = did_you_mean(id, &ids) {
                        diagnostic = diagnostic.with_help(format!("did you mean `{suggestion}`?"));
                    }
                    self.error(diagnostic);
                    ok = false;
                    continue;
                };
                if statement.from < account.opening_date {
                    self.error(
                        Diagnostic::new(
                            format!(
                                "`from` {} {context} is before the opening date {} of account `{id}`",
                                statement.from, account.opening_date
                            ),
                            draft.from_node.map(|n| n.span),
                        )
                        .with_label("the ledger starts at the opening date")
                        .with_help("start the statement on or after the opening date"),
                    );
                    ok = false;
                }
                lines += account.booked_between(statement.from, statement.to).count();
            }
        }
        if lines > MAX_RENDERED_LINES {
            self.error(
                Diagnostic::new(
                    format!("the statements of mock `{mock}` hold {lines} transaction lines, more than {MAX_RENDERED_LINES}"),
                    None,
                )
                .with_label("every file is rendered when the mock starts")
                .with_help("cover fewer days or accounts per file"),
            );
            ok = false;
        }
        ok.then(|| drafts.into_iter().map(|draft| draft.file).collect())
    }

    /// `with.auth`: `{ basic: { username, password } }` or `{ bearer: TOKEN }`.
    fn bank_auth(&mut self, node: &Node, mock: &str) -> Option<BankAuth> {
        let context = format!("in `auth` of mock `{mock}`");
        let fields = self.fields(node, BANK_AUTH_KEYS, "auth", &context)?;
        if !self.at_most_one(&fields, BANK_AUTH_KEYS, &context) {
            return None;
        }
        if let Some(value) = fields.get("bearer") {
            let token = self.secret_setting(
                value,
                "bearer",
                &context,
                "expected printable ASCII without spaces",
                "the token clients send as `Authorization: Bearer TOKEN`",
            )?;
            return Some(BankAuth::Bearer { token });
        }
        let Some(value) = fields.get("basic") else {
            if !fields.has_typo_of("basic") && !fields.has_typo_of("bearer") {
                self.error(
                    Diagnostic::new(format!("empty `auth` {context}"), Some(node.span))
                        .with_label("expected `basic` or `bearer`")
                        .with_help("`auth: { basic: { username, password } }` or `auth: { bearer: TOKEN }`"),
                );
            }
            return None;
        };
        let basic_context = format!("in `auth.basic` of mock `{mock}`");
        let basic = self.fields(value, BANK_BASIC_KEYS, "basic", &basic_context)?;
        let username = self.required(&basic, "username", &basic_context, |cx, value| {
            let text = cx.scalar_text(value, "username", &basic_context)?;
            if !text.is_empty()
                && text.len() <= 256
                && !text.contains(':')
                && !text.chars().any(char::is_control)
            {
                return Some(text);
            }
            cx.error(
                Diagnostic::new(
                    format!("invalid `username` {basic_context}"),
                    Some(value.span),
                )
                .with_label(
                    "expected 1 to 256 characters without `:` or control characters (RFC 7617 §2)",
                ),
            );
            None
        });
        let password = self.required(&basic, "password", &basic_context, |cx, value| {
            cx.secret_setting(
                value,
                "password",
                &basic_context,
                "expected printable ASCII without spaces",
                "the password clients send (RFC 7617)",
            )
        });
        Some(BankAuth::Basic {
            username: username?,
            password: password?,
        })
    }

    /// `with.sftp`: `{ users: [{ username, password | public_key }], inbox, outbox, host_key }`.
    fn bank_sftp(&mut self, node: &Node, mock: &str) -> Option<BankSftp> {
        let context = format!("in `sftp` of mock `{mock}`");
        let fields = self.fields(node, BANK_SFTP_KEYS, "sftp", &context)?;
        let users = self.required(&fields, "users", &context, |cx, value| {
            cx.bank_sftp_users(value, mock)
        });
        let folder = |cx: &mut Self, key: &str| -> Option<String> {
            let Some(value) = fields.get(key) else {
                return Some(key.to_owned());
            };
            let text = cx.scalar_text(value, key, &context)?;
            let good = !text.is_empty()
                && text.len() <= MAX_SFTP_FOLDER
                && text != "."
                && text != ".."
                && text
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
            if good {
                return Some(text);
            }
            cx.error(
                Diagnostic::new(format!("invalid `{key}` `{text}` {context}"), Some(value.span))
                    .with_label(format!(
                        "expected a folder name of 1 to {MAX_SFTP_FOLDER} letters, digits, `.`, `_` or `-` (not `.` or `..`)"
                    ))
                    .with_help(format!("e.g. `{key}: {key}`, served as `/{key}`")),
            );
            None
        };
        let inbox = folder(self, "inbox");
        let outbox = folder(self, "outbox");
        if let (Some(inbox), Some(outbox)) = (&inbox, &outbox)
            && inbox == outbox
        {
            let span = fields.get("outbox").or(fields.get("inbox")).map(|n| n.span);
            self.error(
                Diagnostic::new(
                    format!("`inbox` and `outbox` are both `{inbox}` {context}"),
                    span.or(Some(node.span)),
                )
                .with_label("the download folder and the upload folder must differ")
                .with_help("e.g. `inbox: inbox` and `outbox: outbox`"),
            );
            return None;
        }
        let host_key = match fields.get("host_key") {
            None => Some(None),
            Some(value) => self.bank_sftp_host_key(value, &context).map(Some),
        };
        Some(BankSftp {
            users: users?,
            inbox: inbox?,
            outbox: outbox?,
            host_key: host_key?,
        })
    }

    /// `sftp.users`: at least one, user names unique.
    fn bank_sftp_users(&mut self, node: &Node, mock: &str) -> Option<Vec<SftpUser>> {
        let context = format!("in `sftp` of mock `{mock}`");
        let items = self.non_empty_list(
            node,
            "users",
            &context,
            "give at least one user: `{ username: ledger, password: \"…\" }` or `{ username: ledger, public_key: \"ssh-ed25519 AAAA…\" }`",
        )?;
        if let Some(extra) = items.get(MAX_SFTP_USERS) {
            self.error(
                Diagnostic::new(
                    format!("more than {MAX_SFTP_USERS} `users` {context}"),
                    Some(extra.span),
                )
                .with_label("the limit is crossed here"),
            );
            return None;
        }
        let user_context = |index: usize| format!("in SFTP user {} of mock `{mock}`", index + 1);
        self.unique_items(
            items,
            super::read::AfterBad::Report,
            |cx, index, item| cx.bank_sftp_user(item, &user_context(index)),
            |user| Some(user.username.clone()),
            |index, _, name| {
                (
                    format!("duplicate SFTP user `{name}` {}", user_context(index)),
                    "every user's `username` must be unique",
                )
            },
        )
    }

    /// One SFTP user: a name and exactly one of `password` and `public_key`.
    fn bank_sftp_user(&mut self, node: &Node, context: &str) -> Option<SftpUser> {
        let fields = self.fields(node, BANK_SFTP_USER_KEYS, "users", context)?;
        let username = self.required(&fields, "username", context, |cx, value| {
            let text = cx.scalar_text(value, "username", context)?;
            if !text.is_empty()
                && text.len() <= MAX_SFTP_USERNAME
                && text.bytes().all(|b| b.is_ascii_graphic())
            {
                return Some(text);
            }
            cx.error(
                Diagnostic::new(format!("invalid `username` {context}"), Some(value.span))
                    .with_label(format!(
                        "expected 1 to {MAX_SFTP_USERNAME} printable ASCII characters without spaces"
                    )),
            );
            None
        });
        if !self.at_most_one(&fields, &["password", "public_key"], context) {
            return None;
        }
        let credential = if let Some(value) = fields.get("password") {
            self.secret_setting(
                value,
                "password",
                context,
                "expected printable ASCII without spaces",
                "the password the client sends (SSH `password` method, RFC 4252 §8)",
            )
            .map(SftpCredential::Password)
        } else if let Some(value) = fields.get("public_key") {
            self.bank_sftp_public_key(value, context)
                .map(SftpCredential::PublicKey)
        } else {
            if !fields.has_typo_of("password") && !fields.has_typo_of("public_key") {
                self.error(
                    Diagnostic::new(format!("no credential {context}"), Some(node.span))
                        .with_label("expected `password` or `public_key`")
                        .with_help("e.g. `public_key: \"ssh-ed25519 AAAAC3Nz… ledger@erp\"` (the line of the user's `.pub` file)"),
                );
            }
            None
        };
        Some(SftpUser {
            username: username?,
            credential: credential?,
        })
    }

    /// An OpenSSH public key line whose algorithm the server verifies (Ed25519, ECDSA).
    fn bank_sftp_public_key(&mut self, node: &Node, context: &str) -> Option<String> {
        let text = self.string(node, "public_key", context)?;
        let problem = match russh::keys::PublicKey::from_openssh(text.trim()) {
            Ok(key) if key.algorithm().is_ed25519() || key.algorithm().is_ecdsa() => {
                return Some(text.trim().to_owned());
            }
            Ok(key) => format!(
                "`{}` keys are not accepted: the server verifies Ed25519 and ECDSA signatures",
                key.algorithm()
            ),
            Err(err) => format!("not an OpenSSH public key: {err}"),
        };
        self.error(
            Diagnostic::new(format!("invalid `public_key` {context}"), Some(node.span))
                .with_label(problem)
                .with_help("paste the line of the user's `.pub` file, e.g. from `ssh-keygen -t ed25519`: `ssh-ed25519 AAAAC3Nz… comment`"),
        );
        None
    }

    /// `sftp.host_key`: a file of the scenario holding an unencrypted OpenSSH private key.
    fn bank_sftp_host_key(&mut self, node: &Node, context: &str) -> Option<SecretText> {
        let (name, bytes) = self.read_file(node, "host_key", context)?;
        let text = String::from_utf8(bytes).ok();
        let problem = match text.as_deref().map(russh::keys::PrivateKey::from_openssh) {
            None => "the file is not text".to_owned(),
            Some(Err(err)) => format!("not an OpenSSH private key: {err}"),
            Some(Ok(key)) if key.is_encrypted() => {
                "the key is encrypted (it must not be: the mock has no passphrase to open it)"
                    .to_owned()
            }
            Some(Ok(key)) if !(key.algorithm().is_ed25519() || key.algorithm().is_ecdsa()) => {
                format!(
                    "`{}` host keys are not served: use Ed25519 or ECDSA",
                    key.algorithm()
                )
            }
            Some(Ok(_)) => return text.map(SecretText),
        };
        self.error(
            Diagnostic::new(format!("invalid `host_key` `{name}` {context}"), Some(node.span))
                .with_label(problem)
                .with_help("make one with `ssh-keygen -t ed25519 -N '' -f bank_host_key`, or leave `host_key` out for a fresh key per run"),
        );
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ISO 13616 examples from the SWIFT IBAN registry pass; a changed digit, a wrong length,
    /// an unknown country and a bad shape each fail for their own reason.
    #[test]
    fn ibans_are_checked_by_country_length_and_mod_97() {
        assert_eq!(
            check_iban("DE89 3704 0044 0532 0130 00"),
            Ok("DE89370400440532013000".to_owned())
        );
        assert_eq!(
            check_iban("gb29nwbk60161331926819"),
            Ok("GB29NWBK60161331926819".to_owned())
        );
        assert!(check_iban("FR14 2004 1010 0505 0001 3M02 606").is_ok());
        assert!(check_iban("NO93 8601 1117 947").is_ok());
        assert!(check_iban("MT84 MALT 0110 0001 2345 MTLC AST0 01S").is_ok());
        assert_eq!(
            check_iban("DE89 3704 0044 0532 0130 01"),
            Err(IbanProblem::Checksum)
        );
        assert_eq!(
            check_iban("DE89 3704 0044 0532 0130 0"),
            Err(IbanProblem::Length {
                country: "DE".into(),
                expected: 22
            })
        );
        assert_eq!(
            check_iban("US12 3456 7890"),
            Err(IbanProblem::Country("US".into()))
        );
        assert_eq!(check_iban("12DE"), Err(IbanProblem::Shape));
        assert_eq!(check_iban("DE89-3704"), Err(IbanProblem::Shape));
        assert_eq!(check_iban(""), Err(IbanProblem::Shape));
        assert_eq!(check_iban("DEÜ9 3704"), Err(IbanProblem::Shape));
    }

    /// ISO 9362: 8 or 11, the camt.053.001.02 pattern.
    #[test]
    fn bics_follow_the_iso_9362_pattern() {
        for good in ["DEUTDEFF", "DEUTDEFFXXX", "BYLADEM1001", "NWBKGB2L"] {
            assert!(is_bic(good), "{good}");
        }
        for bad in [
            "DEUTDEF",
            "DEUTDEFFXX",
            "deutdeff",
            "DEUT DEFF",
            "DEU1DEFF",
            "DEUTDE1F",
            "DEUTDEFO",
            "",
            "DEUTDEFFXXXX",
        ] {
            assert!(!is_bic(bad), "{bad}");
        }
    }

    /// The settings travel as JSON to a mock-engine container (`PUT /__reenact/config`): every
    /// field comes back as it went, raw bytes, times, decimals and credentials included.
    #[test]
    fn the_settings_survive_the_json_the_docker_placement_sends() {
        let scenario = crate::scenario::load_bytes(
            std::path::Path::new("tests/fixtures/valid/provider_bank.yaml"),
            std::path::Path::new("tests/fixtures/valid"),
            &std::fs::read("tests/fixtures/valid/provider_bank.yaml").expect("the fixture"),
        )
        .expect("valid scenario");
        let provider = scenario.mocks[0].provider.clone().expect("a provider");
        let json = serde_json::to_string(&provider).expect("JSON");
        let back: crate::scenario::model::ProviderSpec =
            serde_json::from_str(&json).expect("read back");
        assert_eq!(back, provider);
        let crate::scenario::model::ProviderSpec::Bank(settings) = back else {
            panic!("a bank");
        };
        assert_eq!(settings.statements.len(), 5);
        assert!(matches!(
            settings.statements[4].content,
            StatementContent::Raw { ref bytes } if bytes.starts_with(b":20:ODDBANK\r\n")
        ));
        assert_eq!(settings.payments.utc_offset_seconds, 3600);
        assert_eq!(settings.payments.cut_off_minutes, Some(15 * 60 + 30));
        assert_eq!(
            settings.payments.outcomes[1].creditor_iban.as_deref(),
            Some("DE02120300000000202051")
        );
    }
}
