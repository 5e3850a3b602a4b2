//! The ledger-sync demo's bank statement import: [`Statements`] fetches the statement files a
//! bank delivers, parses each by its format and keeps the accounts they describe.
//!
//! A channel yields files ([`Delivered`]: a name, a format if the channel says it, the bytes);
//! the parsers take bytes ([`parse`]); [`Statements::import_files`] is the one intake, whatever
//! the channel. The HTTP channel lists `GET {BANK_URL}/statements` and downloads
//! `GET {BANK_URL}/statements/{name}` (Basic or Bearer credentials); with `BANK_SFTP_URL` the
//! SFTP channel (`sftp.rs`) lists the bank's inbox folder instead and downloads each new file
//! (every file but the payment status reports, `*pain.002*`, which are the payments'), handing
//! them to the same intake. A file is imported once (by name); a file that fails to parse is
//! reported with the reason and not applied, in whole.
//!
//! Formats, each a small bounded parser with decimal amounts: SWIFT MT940 ([`parse_mt940`]),
//! BAI2 ([`parse_bai2`]) and ISO 20022 camt.053 `.001.02` to `.001.08` ([`parse_camt`]). Every
//! statement is reduced to one account's opening and closing balances (signed: negative is
//! overdrawn) and its booked entries (signed amount, reversal, counterparty name, reference,
//! text). These incidents of release 1.4.2 live here, each beside its 1.4.3 fix:
//!
//! - SUP-5201: 1.4.2 reads an MT940 file as one statement (the last `:25:`, `:60F:` and
//!   `:62F:` win, `:60M:`/`:62M:` are ignored, every `:61:` goes to that account); 1.4.3 reads
//!   one statement per account, joins its pages and checks that the balances chain.
//! - SUP-5208: 1.4.2 ignores the debit mark of a balance (MT940 `D`, camt `DBIT`), so an
//!   overdrawn account shows a positive balance; 1.4.3 applies it once.
//! - SUP-5215: 1.4.2 takes the last letter of an MT940 `:61:` mark for the direction, so `RC`
//!   (reversal of a credit: money out) reads as a credit; 1.4.3 books `RC` as a debit and `RD`
//!   as a credit.
//! - SUP-5222: 1.4.2 skips BAI2 `88` continuation records, so a long `16` text is cut; 1.4.3
//!   joins each continuation to its record and checks the `49` trailer.
//! - SUP-5229: 1.4.2 reads a camt payer's name at `RltdPties/Dbtr/Nm` in every version; from
//!   `camt.053.001.08` on the name is in `Dbtr/Pty/Nm`, so names are empty; 1.4.3 maps by the
//!   version the namespace names.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use bytes::Bytes;
use rust_decimal::Decimal;
use serde::Serialize;
use serde_json::Value;
use sxd_document::dom::Element;
use time::Date;
use tokio::sync::Mutex;

use crate::bank::BankHttp;
use crate::log;
use crate::release::Release;
use crate::sftp::SftpChannel;

/// The largest listing or statement file read (the camt parser's bound as well).
const MAX_FILE_BYTES: usize = 1024 * 1024;
/// The most files one listing may name.
const MAX_LISTED: usize = 1000;
/// The most accounts kept.
const MAX_ACCOUNTS: usize = 100;
/// The most transactions kept per account; later ones are counted, not kept.
const MAX_TRANSACTIONS: usize = 10_000;
/// The most statements one file may hold.
const MAX_STATEMENTS: usize = 1000;
/// The namespace of camt.053 messages, before the version's two digits.
const CAMT053: &str = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.";

/// A statement file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// SWIFT MT940.
    Mt940,
    /// BAI2 (BTRS).
    Bai2,
    /// ISO 20022 camt.053 (the version is read from the file's namespace).
    Camt053,
}

impl Format {
    /// The format a listing names (`mt940`, `bai2`, `camt.053.001.NN`); `None` for another
    /// (e.g. `raw`), which [`Format::sniff`] then decides.
    pub fn from_listing(name: &str) -> Option<Format> {
        match name {
            "mt940" => Some(Format::Mt940),
            "bai2" => Some(Format::Bai2),
            _ if name.starts_with("camt.053.") => Some(Format::Camt053),
            _ => None,
        }
    }

    /// The format of `bytes` by their content: a BAI2 file starts with its `01` record, a camt
    /// file is XML, an MT940 file has a `:20:` field; `None` otherwise.
    pub fn sniff(bytes: &[u8]) -> Option<Format> {
        let text = String::from_utf8_lossy(&bytes[..bytes.len().min(4096)]);
        let text = text.trim_start_matches('\u{feff}').trim_start();
        if text.starts_with("01,") {
            Some(Format::Bai2)
        } else if text.starts_with('<') {
            Some(Format::Camt053)
        } else if text.contains(":20:") {
            Some(Format::Mt940)
        } else {
            None
        }
    }
}

/// One file a channel delivered.
#[derive(Clone, Debug)]
pub struct Delivered {
    /// The name the channel lists it under (a file is imported once per name).
    pub name: String,
    /// Its format when the channel says it; else read from the bytes.
    pub format: Option<Format>,
    /// The file.
    pub bytes: Bytes,
}

/// A balance as a statement gives it.
#[derive(Clone, Debug, PartialEq)]
pub struct Balance {
    /// Signed: negative when the account is overdrawn.
    pub amount: Decimal,
    /// The day it is for.
    pub date: Option<Date>,
}

/// A booked entry.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// The booking day.
    pub booked: Date,
    /// Signed: positive money in, negative money out.
    pub amount: Decimal,
    /// Whether the bank marked it as the reversal of an earlier entry.
    pub reversal: bool,
    /// The other party's name, when the file says it apart from the text.
    pub counterparty: Option<String>,
    /// The bank's reference.
    pub reference: Option<String>,
    /// The text for the account owner (purpose, details).
    pub text: Option<String>,
}

/// One account's statement, whatever the format.
#[derive(Clone, Debug, PartialEq)]
pub struct Statement {
    /// The account's IBAN or number.
    pub account: String,
    /// ISO 4217 code; empty when the file does not say.
    pub currency: String,
    pub opening: Option<Balance>,
    pub closing: Option<Balance>,
    pub entries: Vec<Entry>,
}

/// The bank's HTTP statement channel (`BANK_URL`).
#[derive(Debug)]
struct HttpChannel(BankHttp);

/// What ledger-sync knows of one account.
#[derive(Clone, Debug, Default, Serialize)]
struct Account {
    account: String,
    currency: String,
    /// The opening balance of the first statement imported.
    #[serde(serialize_with = "optional_text")]
    opening_balance: Option<Decimal>,
    /// The closing balance of the latest statement imported.
    #[serde(serialize_with = "optional_text")]
    balance: Option<Decimal>,
    #[serde(serialize_with = "optional_text")]
    balance_date: Option<Date>,
    transactions: Vec<Transaction>,
    /// Transactions past [`MAX_TRANSACTIONS`], counted only.
    #[serde(skip_serializing_if = "is_zero")]
    transactions_dropped: usize,
}

/// One booked transaction as `GET /bank/accounts` shows it.
#[derive(Clone, Debug, Serialize)]
struct Transaction {
    #[serde(serialize_with = "text")]
    booked: Date,
    #[serde(serialize_with = "text")]
    amount: Decimal,
    direction: &'static str,
    reversal: bool,
    counterparty: Option<String>,
    reference: Option<String>,
    text: Option<String>,
    /// The file it came from.
    file: String,
}

/// The accounts and the files imported so far.
#[derive(Debug, Default)]
struct Ledger {
    imported: BTreeSet<String>,
    accounts: BTreeMap<String, Account>,
}

/// What one import did, as `POST /bank/import` answers it.
#[derive(Debug, Default, Serialize)]
pub struct ImportSummary {
    /// Files the channel offered.
    pub listed: usize,
    /// Files imported now, in order.
    pub imported: Vec<String>,
    /// Files imported before, left alone.
    pub already_imported: usize,
    /// Files refused, with the reason; they are tried again at the next import.
    pub failed: Vec<FailedFile>,
    /// Statements and transactions the imported files held.
    pub statements: usize,
    pub transactions: usize,
}

impl ImportSummary {
    /// Counts `other`'s files in this summary (all but `listed`, which is the channel's).
    fn add(&mut self, other: ImportSummary) {
        self.imported.extend(other.imported);
        self.already_imported += other.already_imported;
        self.failed.extend(other.failed);
        self.statements += other.statements;
        self.transactions += other.transactions;
    }
}

/// A file that could not be imported.
#[derive(Debug, Serialize)]
pub struct FailedFile {
    pub name: String,
    pub error: String,
}

/// Where the statement files come from.
#[derive(Debug)]
enum Channel {
    /// The bank's HTTP statement API (`BANK_URL`).
    Http(HttpChannel),
    /// The bank's SFTP inbox (`BANK_SFTP_URL`).
    Sftp(Arc<SftpChannel>),
}

/// The statement import of one ledger-sync process.
#[derive(Debug)]
pub struct Statements {
    release: Release,
    channel: Channel,
    ledger: Mutex<Ledger>,
}

/// Whether the inbox file `name` is a payment status report (left to the payments).
fn is_payment_report(name: &str) -> bool {
    name.to_ascii_lowercase().contains("pain.002")
}

impl Statements {
    /// The import over `sftp` when ledger-sync has the bank's SFTP server (`BANK_SFTP_URL`),
    /// else over `http` (`BANK_URL`); `None` without either.
    pub fn new(
        release: Release,
        http: Option<BankHttp>,
        sftp: Option<Arc<SftpChannel>>,
    ) -> Option<Statements> {
        let channel = match (sftp, http) {
            (Some(sftp), _) => Channel::Sftp(sftp),
            (None, Some(http)) => Channel::Http(HttpChannel(http)),
            (None, None) => return None,
        };
        Some(Statements {
            release,
            channel,
            ledger: Mutex::new(Ledger::default()),
        })
    }

    /// `POST /bank/import`: lists the bank's files and imports those not imported yet, one at
    /// a time (downloaded, then handed to [`Statements::import_files`]).
    pub async fn import(&self) -> Result<ImportSummary, String> {
        let http = match &self.channel {
            Channel::Http(http) => http,
            Channel::Sftp(sftp) => return self.import_sftp(sftp).await,
        };
        let listed = http.list().await?;
        let mut summary = ImportSummary {
            listed: listed.len(),
            ..ImportSummary::default()
        };
        for (name, format) in listed {
            if self.ledger.lock().await.imported.contains(&name) {
                summary.already_imported += 1;
                continue;
            }
            match http.download(&name).await {
                Ok(bytes) => {
                    let file = Delivered {
                        name,
                        format: format.as_deref().and_then(Format::from_listing),
                        bytes,
                    };
                    summary.add(self.import_files(vec![file]).await);
                }
                Err(error) => {
                    log(format!("bank import: {name}: download failed: {error}"));
                    summary.failed.push(FailedFile { name, error });
                }
            }
        }
        Ok(summary)
    }

    /// The SFTP import: one connection lists the inbox and downloads each statement file not
    /// imported yet, handing it to [`Statements::import_files`].
    async fn import_sftp(&self, sftp: &SftpChannel) -> Result<ImportSummary, String> {
        let connection = sftp.connect().await?;
        let listed = match connection.list(&sftp.inbox).await {
            Ok(listed) => listed,
            Err(error) => {
                connection.close().await;
                return Err(error);
            }
        };
        let names: Vec<String> = listed
            .into_iter()
            .filter(|name| !is_payment_report(name))
            .collect();
        let mut summary = ImportSummary {
            listed: names.len(),
            ..ImportSummary::default()
        };
        for name in names {
            if self.ledger.lock().await.imported.contains(&name) {
                summary.already_imported += 1;
                continue;
            }
            let path = format!("{}/{name}", sftp.inbox);
            match connection.download(&path, MAX_FILE_BYTES).await {
                Ok(bytes) => {
                    let file = Delivered {
                        name,
                        format: None,
                        bytes,
                    };
                    summary.add(self.import_files(vec![file]).await);
                }
                Err(error) => {
                    log(format!("bank import: {name}: download failed: {error}"));
                    summary.failed.push(FailedFile { name, error });
                }
            }
        }
        connection.close().await;
        Ok(summary)
    }

    /// The one intake of delivered files, whatever the channel: parses and applies each file
    /// not imported yet, in order. A second channel (a folder) calls this with its files.
    pub async fn import_files(&self, files: Vec<Delivered>) -> ImportSummary {
        let mut ledger = self.ledger.lock().await;
        let mut summary = ImportSummary {
            listed: files.len(),
            ..ImportSummary::default()
        };
        let (old, new): (Vec<Delivered>, Vec<Delivered>) = files
            .into_iter()
            .partition(|file| ledger.imported.contains(&file.name));
        summary.already_imported = old.len();
        self.intake(&mut ledger, new, &mut summary);
        summary
    }

    /// Parses and applies `files` into `ledger`, counting in `summary`.
    fn intake(&self, ledger: &mut Ledger, files: Vec<Delivered>, summary: &mut ImportSummary) {
        for file in files {
            let parsed = file
                .format
                .or_else(|| Format::sniff(&file.bytes))
                .ok_or_else(|| "not a statement format ledger-sync reads".to_owned())
                .and_then(|format| parse(format, &file.bytes, self.release));
            let statements = match parsed.and_then(|s| ledger.room_for(&s).map(|()| s)) {
                Ok(statements) => statements,
                Err(error) => {
                    log(format!("bank import: {}: refused: {error}", file.name));
                    summary.failed.push(FailedFile {
                        name: file.name,
                        error,
                    });
                    continue;
                }
            };
            let entries: usize = statements.iter().map(|s| s.entries.len()).sum();
            log(format!(
                "bank import: {}: {} statement(s), {entries} transaction(s)",
                file.name,
                statements.len()
            ));
            for statement in statements {
                ledger.apply(&file.name, statement);
                summary.statements += 1;
            }
            summary.transactions += entries;
            ledger.imported.insert(file.name.clone());
            summary.imported.push(file.name);
        }
    }

    /// `GET /bank/accounts`: every account, ordered by its identifier.
    pub async fn accounts(&self) -> Value {
        let ledger = self.ledger.lock().await;
        let accounts: Vec<&Account> = ledger.accounts.values().collect();
        serde_json::json!({ "accounts": accounts })
    }
}

impl Ledger {
    /// Whether the accounts of `statements` fit within [`MAX_ACCOUNTS`].
    fn room_for(&self, statements: &[Statement]) -> Result<(), String> {
        let new: BTreeSet<&str> = statements
            .iter()
            .map(|s| s.account.as_str())
            .filter(|account| !self.accounts.contains_key(*account))
            .collect();
        if self.accounts.len() + new.len() > MAX_ACCOUNTS {
            return Err(format!("more than {MAX_ACCOUNTS} accounts"));
        }
        Ok(())
    }

    /// Books `statement` (from the file `file`) on its account.
    fn apply(&mut self, file: &str, statement: Statement) {
        let account = self
            .accounts
            .entry(statement.account.clone())
            .or_insert_with(|| Account {
                account: statement.account.clone(),
                ..Account::default()
            });
        if account.currency.is_empty() {
            account.currency = statement.currency.clone();
        }
        if account.opening_balance.is_none() {
            account.opening_balance = statement.opening.as_ref().map(|b| b.amount);
        }
        if let Some(closing) = statement.closing {
            account.balance = Some(closing.amount);
            account.balance_date = closing.date;
        }
        for entry in statement.entries {
            if account.transactions.len() >= MAX_TRANSACTIONS {
                account.transactions_dropped += 1;
                continue;
            }
            account.transactions.push(Transaction {
                booked: entry.booked,
                amount: entry.amount,
                direction: if entry.amount.is_sign_negative() && !entry.amount.is_zero() {
                    "debit"
                } else {
                    "credit"
                },
                reversal: entry.reversal,
                counterparty: entry.counterparty,
                reference: entry.reference,
                text: entry.text,
                file: file.to_owned(),
            });
        }
    }
}

impl HttpChannel {
    /// `GET /statements`: the files available, with the format the bank names.
    async fn list(&self) -> Result<Vec<(String, Option<String>)>, String> {
        let body = self.get("/statements").await?;
        let listing: Value = serde_json::from_slice(&body)
            .map_err(|_| "the bank's statement listing is not JSON".to_owned())?;
        let items = listing
            .get("statements")
            .and_then(Value::as_array)
            .ok_or("the bank's statement listing has no `statements` array")?;
        if items.len() > MAX_LISTED {
            return Err(format!(
                "the bank lists {} files, more than {MAX_LISTED}",
                items.len()
            ));
        }
        items
            .iter()
            .map(|item| {
                let name = item
                    .get("name")
                    .and_then(Value::as_str)
                    .filter(|name| !name.is_empty())
                    .ok_or("a file of the bank's listing has no `name`")?;
                let format = item.get("format").and_then(Value::as_str);
                Ok((name.to_owned(), format.map(str::to_owned)))
            })
            .collect()
    }

    /// `GET /statements/{name}`: the file's bytes.
    async fn download(&self, name: &str) -> Result<Bytes, String> {
        self.get(&format!("/statements/{}", path_segment(name)))
            .await
    }

    /// `GET {base_url}{path}` with the credentials: the body, at most [`MAX_FILE_BYTES`].
    async fn get(&self, path: &str) -> Result<Bytes, String> {
        let request = self.0.request(reqwest::Method::GET, path);
        let unreachable = |error: reqwest::Error| {
            if error.is_timeout() {
                "the bank did not answer in time".to_owned()
            } else {
                format!("the bank is unreachable: {error}")
            }
        };
        let mut response = request.send().await.map_err(unreachable)?;
        let status = response.status();
        log(format!("bank: GET {path} -> {}", status.as_u16()));
        if !status.is_success() {
            return Err(format!(
                "the bank answered {}",
                crate::connector::status_line(status)
            ));
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(unreachable)? {
            if body.len() + chunk.len() > MAX_FILE_BYTES {
                return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Bytes::from(body))
    }
}

/// `name` percent-encoded as one path segment (by the URL standard's path-segment set).
fn path_segment(name: &str) -> String {
    let Ok(mut url) = reqwest::Url::parse("http://bank.invalid/") else {
        return name.to_owned();
    };
    if let Ok(mut segments) = url.path_segments_mut() {
        segments.clear().push(name);
    }
    url.path().trim_start_matches('/').to_owned()
}

/// The statements `bytes` hold in `format`, as `release` reads them.
pub fn parse(format: Format, bytes: &[u8], release: Release) -> Result<Vec<Statement>, String> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!("larger than {MAX_FILE_BYTES} bytes"));
    }
    // Banks' files are ASCII, UTF-8 or ISO 8859-1 (umlauts): Latin-1 maps every byte.
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    };
    let statements = match format {
        Format::Mt940 => parse_mt940(&text, release)?,
        Format::Bai2 => parse_bai2(&text, release)?,
        Format::Camt053 => parse_camt(&text, release)?,
    };
    if statements.len() > MAX_STATEMENTS {
        return Err(format!("more than {MAX_STATEMENTS} statements"));
    }
    Ok(statements)
}

/// SUP-5208: a balance from its magnitude and debit mark (MT940 `D`, camt `DBIT`).
fn balance_amount(release: Release, magnitude: Decimal, debit: bool) -> Decimal {
    match release {
        // SUP-5208 (bug): 1.4.2 takes the amount as it is written. Balances are written
        // unsigned with a separate mark, so an overdrawn account shows a positive balance.
        Release::V1_4_2 => magnitude,
        // SUP-5208 (fix): 1.4.3 applies the debit mark, once.
        Release::V1_4_3 if debit => -magnitude,
        Release::V1_4_3 => magnitude,
    }
}

/// `amount` with at least the currency's minor units as decimals (`12,` JPY stays `12`).
fn with_minor_units(amount: Decimal, currency: &str) -> Decimal {
    let mut amount = amount;
    let units = minor_units(currency);
    if amount.scale() < units {
        amount.rescale(units);
    }
    amount
}

/// ISO 4217 minor units of `currency`: 0, 3, 4 for the currencies that have them, else 2.
fn minor_units(currency: &str) -> u32 {
    const ZERO: [&str; 16] = [
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    const THREE: [&str; 7] = ["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
    if ZERO.contains(&currency) {
        0
    } else if THREE.contains(&currency) {
        3
    } else if matches!(currency, "CLF" | "UYW") {
        4
    } else {
        2
    }
}

// ---------------------------------------------------------------------------------------------
// MT940

/// One MT940 field: its tag and its lines.
#[derive(Debug)]
struct Field {
    tag: String,
    lines: Vec<String>,
    /// The 1-based line it starts on.
    line: usize,
}

impl Field {
    /// The field's lines joined as one text (a line break inside a field carries no space).
    fn joined(&self) -> String {
        self.lines.concat()
    }
}

/// The fields of an MT940 file, in blocks: a `-` line or a new `:20:` ends a block.
fn mt940_blocks(text: &str) -> Vec<Vec<Field>> {
    let mut blocks: Vec<Vec<Field>> = Vec::new();
    let mut block: Vec<Field> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches(['\r', ' ']);
        if line.trim() == "-" || line.starts_with("-}") {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
            continue;
        }
        // The SWIFT envelope (`{1:…}{2:…}{4:`) carries no statement data.
        if line.starts_with('{') || line.is_empty() {
            continue;
        }
        let tag = line
            .strip_prefix(':')
            .and_then(|rest| rest.split_once(':'))
            .map(|(tag, _)| tag)
            .filter(|tag| {
                (2..=3).contains(&tag.len()) && tag.bytes().all(|b| b.is_ascii_alphanumeric())
            });
        match tag {
            Some(tag) => {
                if tag == "20" && !block.is_empty() {
                    blocks.push(std::mem::take(&mut block));
                }
                block.push(Field {
                    tag: tag.to_owned(),
                    lines: vec![line[tag.len() + 2..].to_owned()],
                    line: index + 1,
                });
            }
            None => {
                if let Some(field) = block.last_mut() {
                    field.lines.push(line.to_owned());
                }
            }
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

/// A balance field (`60F`, `60M`, `62F`, `62M`, `64`): mark, `YYMMDD`, currency, amount.
fn mt940_balance(field: &Field, release: Release) -> Result<(Balance, String), String> {
    let text = field.joined();
    let bad = || {
        format!(
            "line {}: `:{}:{text}` is not a balance (mark, YYMMDD, currency, amount)",
            field.line, field.tag
        )
    };
    let mark = text.get(..1).ok_or_else(bad)?;
    let debit = match mark {
        "D" => true,
        "C" => false,
        _ => return Err(bad()),
    };
    let date = yymmdd(text.get(1..7).ok_or_else(bad)?).ok_or_else(bad)?;
    let currency = text.get(7..10).ok_or_else(bad)?.to_owned();
    let magnitude = swift_amount(text.get(10..).ok_or_else(bad)?).ok_or_else(bad)?;
    let amount = with_minor_units(balance_amount(release, magnitude, debit), &currency);
    Ok((
        Balance {
            amount,
            date: Some(date),
        },
        currency,
    ))
}

/// `YYMMDD` as a date of the 21st century.
fn yymmdd(text: &str) -> Option<Date> {
    if text.len() != 6 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let year = 2000 + text[..2].parse::<i32>().ok()?;
    let month = time::Month::try_from(text[2..4].parse::<u8>().ok()?).ok()?;
    Date::from_calendar_date(year, month, text[4..6].parse().ok()?).ok()
}

/// A SWIFT amount (`15d`): digits with a decimal comma (`1200,50`, `380115,`, `0,12`).
fn swift_amount(text: &str) -> Option<Decimal> {
    let (whole, fraction) = text.split_once(',')?;
    let digits = |part: &str| part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty() || text.len() > 15 || !digits(whole) || !digits(fraction) {
        return None;
    }
    Decimal::from_str(format!("{whole}.{fraction}").trim_end_matches('.')).ok()
}

/// SUP-5215: whether an MT940 `:61:` mark books money in.
fn mt940_credit(release: Release, mark: &str) -> bool {
    match release {
        // SUP-5215 (bug): 1.4.2 reads the direction from the mark's last letter, so `RC`, the
        // reversal of a credit (money going out again), reads as a credit: a returned payment
        // appears as a second incoming payment.
        Release::V1_4_2 => mark.ends_with('C'),
        // SUP-5215 (fix): 1.4.3 reads the mark as SWIFT defines it: `C` and `RD` (reversal of a
        // debit) book money in, `D` and `RC` (reversal of a credit) money out.
        Release::V1_4_3 => matches!(mark, "C" | "RD"),
    }
}

/// A `:61:` line and the `:86:` after it.
fn mt940_entry(
    field: &Field,
    details: Option<&Field>,
    currency: &str,
    release: Release,
) -> Result<Entry, String> {
    let text = field.lines.first().cloned().unwrap_or_default();
    let bad = |what: &str| format!("line {}: `:61:{text}`: {what}", field.line);
    let value = yymmdd(text.get(..6).ok_or_else(|| bad("no value date"))?)
        .ok_or_else(|| bad("the value date is not YYMMDD"))?;
    let mut rest = &text[6..];
    let mut booked = value;
    if rest.len() >= 4 && rest.as_bytes()[..4].iter().all(u8::is_ascii_digit) {
        // The entry date has no year: the value date's, or the next or last year's across
        // the turn of the year.
        let month = time::Month::try_from(rest[..2].parse::<u8>().unwrap_or(0))
            .map_err(|_| bad("the entry date is not MMDD"))?;
        let day: u8 = rest[2..4].parse().unwrap_or(0);
        let year = match (u8::from(value.month()), u8::from(month)) {
            (12, 1) => value.year() + 1,
            (1, 12) => value.year() - 1,
            _ => value.year(),
        };
        booked = Date::from_calendar_date(year, month, day)
            .map_err(|_| bad("the entry date is not a day"))?;
        rest = &rest[4..];
    }
    let mark_length = if rest.starts_with("RC") || rest.starts_with("RD") {
        2
    } else {
        1
    };
    let mark = rest
        .get(..mark_length)
        .ok_or_else(|| bad("no debit/credit mark"))?;
    if !matches!(mark, "C" | "D" | "RC" | "RD") {
        return Err(bad("the mark is not C, D, RC or RD"));
    }
    rest = &rest[mark_length..];
    // An optional funds code: the third letter of the currency.
    if rest.starts_with(|c: char| c.is_ascii_alphabetic()) {
        rest = &rest[1..];
    }
    let amount_end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ','))
        .unwrap_or(rest.len());
    let magnitude = swift_amount(&rest[..amount_end]).ok_or_else(|| bad("no amount"))?;
    rest = &rest[amount_end..];
    // The transaction type (`NTRF`), then the customer reference and `//` the bank's.
    let references = rest.get(4..).unwrap_or_default();
    let reference = references
        .split_once("//")
        .map(|(_, bank)| bank.trim().to_owned())
        .filter(|bank| !bank.is_empty());
    let credit = mt940_credit(release, mark);
    let amount = with_minor_units(if credit { magnitude } else { -magnitude }, currency);
    let (counterparty, text) =
        details.map_or((None, None), |details| mt940_details(&details.joined()));
    Ok(Entry {
        booked,
        amount,
        reversal: mark.starts_with('R'),
        counterparty,
        reference,
        text,
    })
}

/// The counterparty's name and the text of a `:86:`: German ZKA subfields (`GVC?00…?20…`:
/// remittance `?20`–`?29`, name `?32`/`?33`) or free text.
fn mt940_details(details: &str) -> (Option<String>, Option<String>) {
    let structured = details.len() > 4
        && details.as_bytes()[..3].iter().all(u8::is_ascii_digit)
        && details.as_bytes()[3] == b'?';
    if !structured {
        let text = details.trim();
        return (None, (!text.is_empty()).then(|| text.to_owned()));
    }
    let mut remittance = String::new();
    let mut name = String::new();
    for part in details[4..].split('?') {
        let (Some(code), Some(value)) = (part.get(..2), part.get(2..)) else {
            continue;
        };
        match code {
            "20" | "21" | "22" | "23" | "24" | "25" | "26" | "27" | "28" | "29" => {
                remittance.push_str(value);
            }
            "32" | "33" => name.push_str(value),
            _ => {}
        }
    }
    let some = |text: String| (!text.trim().is_empty()).then(|| text.trim().to_owned());
    (some(name), some(remittance))
}

/// The statements of an MT940 file.
pub fn parse_mt940(text: &str, release: Release) -> Result<Vec<Statement>, String> {
    let blocks = mt940_blocks(text);
    if blocks.is_empty() {
        return Err("no MT940 statement (no `:20:` block)".to_owned());
    }
    match release {
        // SUP-5201 (bug): 1.4.2 reads the whole file as one statement: each `:25:`, `:60F:` and
        // `:62F:` overwrites the one before, `:60M:`/`:62M:` are not read, and every `:61:`
        // lands on the last account. In a file with two accounts (or an account over pages)
        // the first account vanishes and the last gets the other's lines and balances.
        Release::V1_4_2 => {
            let mut statement = Statement {
                account: String::new(),
                currency: String::new(),
                opening: None,
                closing: None,
                entries: Vec::new(),
            };
            let fields: Vec<&Field> = blocks.iter().flatten().collect();
            for (index, field) in fields.iter().enumerate() {
                match field.tag.as_str() {
                    "25" => statement.account = field.joined().trim().to_owned(),
                    "60F" => {
                        let (balance, currency) = mt940_balance(field, release)?;
                        statement.opening = Some(balance);
                        statement.currency = currency;
                    }
                    "62F" => statement.closing = Some(mt940_balance(field, release)?.0),
                    "61" => {
                        let details = fields.get(index + 1).filter(|next| next.tag == "86");
                        let currency = statement.currency.clone();
                        statement.entries.push(mt940_entry(
                            field,
                            details.copied(),
                            &currency,
                            release,
                        )?);
                    }
                    _ => {}
                }
            }
            if statement.account.is_empty() {
                return Err("no `:25:` account".to_owned());
            }
            Ok(vec![statement])
        }
        // SUP-5201 (fix): 1.4.3 reads one statement per block, joins the pages of an account
        // (`:62M:` on one page, `:60M:` with the same balance on the next) and checks on every
        // page that the opening balance plus the lines is the closing balance.
        Release::V1_4_3 => {
            let mut statements: Vec<Statement> = Vec::new();
            let mut open_page = false;
            for block in &blocks {
                let page = mt940_page(block, release)?;
                if page.opening_tag == "60M" {
                    let previous = statements.last_mut().filter(|s| open_page && s.account == page.statement.account).ok_or_else(|| {
                        format!(
                            "line {}: account {} opens with an intermediate balance `:60M:` but no page of it ends with `:62M:` before",
                            page.line, page.statement.account
                        )
                    })?;
                    let before = previous.closing.as_ref().map(|b| b.amount);
                    let now = page.statement.opening.as_ref().map(|b| b.amount);
                    if before != now {
                        return Err(format!(
                            "line {}: account {}: the page opens with {} but the page before closed with {}",
                            page.line,
                            page.statement.account,
                            show(now),
                            show(before)
                        ));
                    }
                    previous.entries.extend(page.statement.entries);
                    previous.closing = page.statement.closing;
                } else {
                    if open_page {
                        return Err(format!(
                            "line {}: the page before ends with `:62M:` but no `:60M:` page follows",
                            page.line
                        ));
                    }
                    statements.push(page.statement);
                }
                open_page = page.closing_tag == "62M";
            }
            if open_page {
                return Err(
                    "the last page ends with `:62M:`: the statement is incomplete".to_owned(),
                );
            }
            Ok(statements)
        }
    }
}

/// One MT940 block read as a page of a statement, with the tags of its balances.
struct Page {
    statement: Statement,
    opening_tag: String,
    closing_tag: String,
    line: usize,
}

/// A block as a statement page, its balances checked against its lines.
fn mt940_page(block: &[Field], release: Release) -> Result<Page, String> {
    let line = block.first().map_or(0, |f| f.line);
    let find = |tags: &[&str]| block.iter().find(|f| tags.contains(&f.tag.as_str()));
    let account = find(&["25"])
        .map(|f| f.joined().trim().to_owned())
        .ok_or_else(|| format!("line {line}: the block has no `:25:` account"))?;
    let opening_field = find(&["60F", "60M"]).ok_or_else(|| {
        format!("line {line}: account {account}: no opening balance `:60F:`/`:60M:`")
    })?;
    let closing_field = find(&["62F", "62M"]).ok_or_else(|| {
        format!("line {line}: account {account}: no closing balance `:62F:`/`:62M:`")
    })?;
    let (opening, currency) = mt940_balance(opening_field, release)?;
    let (closing, _) = mt940_balance(closing_field, release)?;
    let mut entries = Vec::new();
    for (index, field) in block.iter().enumerate() {
        if field.tag == "61" {
            let details = block.get(index + 1).filter(|next| next.tag == "86");
            entries.push(mt940_entry(field, details, &currency, release)?);
        }
    }
    let sum: Decimal = entries.iter().map(|e| e.amount).sum();
    if opening.amount + sum != closing.amount {
        return Err(format!(
            "line {line}: account {account}: the opening balance {} plus the lines {} is not the closing balance {}",
            opening.amount, sum, closing.amount
        ));
    }
    Ok(Page {
        statement: Statement {
            account,
            currency,
            opening: Some(opening),
            closing: Some(closing),
            entries,
        },
        opening_tag: opening_field.tag.clone(),
        closing_tag: closing_field.tag.clone(),
        line,
    })
}

/// An optional amount for a message.
fn show(amount: Option<Decimal>) -> String {
    amount.map_or_else(|| "nothing".to_owned(), |a| a.to_string())
}

// ---------------------------------------------------------------------------------------------
// BAI2

/// A logical BAI2 record: its code, its fields' text (without the closing `/`), the physical
/// records it spans and the line it starts on.
#[derive(Debug)]
struct Record {
    code: String,
    text: String,
    physical: usize,
    line: usize,
}

/// The logical records of a BAI2 file, as `release` joins them.
fn bai2_records(text: &str, release: Release) -> Result<Vec<Record>, String> {
    let mut records: Vec<Record> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches(['\r', ' ']);
        if line.is_empty() {
            continue;
        }
        let (code, rest) = line.split_once(',').unwrap_or((line, ""));
        if code == "88" {
            match release {
                // SUP-5222 (bug): 1.4.2 skips the records it does not know, `88` among them, so
                // a `16` whose text continues loses the rest of it (the payer's name), and an
                // `03` its later summary groups.
                Release::V1_4_2 => continue,
                // SUP-5222 (fix): 1.4.3 appends a continuation to the record before it: after a
                // record ended by `/` as the next field, after a `16` text that did not end
                // (no `/`) as the text's next word.
                Release::V1_4_3 => {
                    let last = records.last_mut().ok_or_else(|| {
                        format!("line {}: a continuation `88` before any record", index + 1)
                    })?;
                    if last.text.ends_with('/') {
                        last.text.pop();
                        last.text.push(',');
                    } else {
                        last.text.push(' ');
                    }
                    last.text.push_str(rest);
                    last.physical += 1;
                    continue;
                }
            }
        }
        records.push(Record {
            code: code.to_owned(),
            text: rest.to_owned(),
            physical: 1,
            line: index + 1,
        });
    }
    Ok(records)
}

/// The statements of a BAI2 file: one per account (`03`) of each group (`02`), its opening
/// (`010`) and closing (`015`) ledger balances and its `16` details, booked on the group's
/// as-of date.
pub fn parse_bai2(text: &str, release: Release) -> Result<Vec<Statement>, String> {
    let records = bai2_records(text, release)?;
    if records.first().map(|r| r.code.as_str()) != Some("01") {
        return Err("not BAI2: the file does not start with an `01` record".to_owned());
    }
    let mut statements = Vec::new();
    let mut as_of: Option<Date> = None;
    let mut group_currency = "USD".to_owned();
    // The account being read: its statement, control total and records.
    let mut current: Option<(Statement, i128, usize)> = None;
    for record in &records {
        let body = record.text.strip_suffix('/').unwrap_or(&record.text);
        let at = |what: String| format!("line {}: `{}` record: {what}", record.line, record.code);
        match record.code.as_str() {
            "02" => {
                let fields: Vec<&str> = body.split(',').collect();
                let date = fields.get(3).copied().unwrap_or_default();
                as_of = Some(
                    yymmdd(date).ok_or_else(|| at(format!("as-of date `{date}` is not YYMMDD")))?,
                );
                if let Some(currency) = fields.get(5).filter(|c| !c.is_empty()) {
                    group_currency = (*currency).to_owned();
                }
            }
            "03" => {
                let fields: Vec<&str> = body.split(',').collect();
                let account = fields.first().copied().unwrap_or_default().to_owned();
                let currency = fields
                    .get(1)
                    .filter(|c| !c.is_empty())
                    .map_or(group_currency.clone(), |c| (*c).to_owned());
                let mut statement = Statement {
                    account,
                    currency: currency.clone(),
                    opening: None,
                    closing: None,
                    entries: Vec::new(),
                };
                let mut total: i128 = 0;
                let mut rest = fields.get(2..).unwrap_or_default();
                while let [code, amount, _count, funds, tail @ ..] = rest {
                    let minor = bai2_amount(amount).map_err(&at)?;
                    total += minor.unwrap_or(0);
                    let balance = minor.map(|m| Balance {
                        amount: units(m, &currency),
                        date: as_of,
                    });
                    match *code {
                        "010" => statement.opening = balance,
                        "015" => statement.closing = balance,
                        _ => {}
                    }
                    rest = skip_funds_fields(funds, tail).map_err(&at)?;
                }
                current = Some((statement, total, record.physical));
            }
            "16" => {
                let (statement, total, count) = current
                    .as_mut()
                    .ok_or_else(|| at("a detail outside an account".to_owned()))?;
                let mut fields = body.splitn(3, ',');
                let code = fields.next().unwrap_or_default();
                let amount = bai2_amount(fields.next().unwrap_or_default())
                    .map_err(&at)?
                    .unwrap_or(0);
                let after = fields.next().unwrap_or_default();
                let (funds, after) = after.split_once(',').unwrap_or((after, ""));
                let after = skip_funds_text(funds, after).map_err(&at)?;
                let mut tail = after.splitn(3, ',');
                let bank_ref = tail.next().unwrap_or_default();
                let _customer_ref = tail.next();
                // The text: the rest of the record, commas and slashes included.
                let text = tail.next().unwrap_or_default().trim();
                let text = if text == "/" { "" } else { text };
                let type_code: u16 = code
                    .parse()
                    .map_err(|_| at(format!("type code `{code}` is not a number")))?;
                let credit = match type_code {
                    100..=399 => true,
                    400..=699 => false,
                    _ => {
                        return Err(at(format!(
                            "type code {code} is neither a credit nor a debit"
                        )));
                    }
                };
                *total += amount;
                *count += record.physical;
                let magnitude = units(amount, &statement.currency);
                statement.entries.push(Entry {
                    booked: as_of.ok_or_else(|| at("a detail before any group".to_owned()))?,
                    amount: if credit { magnitude } else { -magnitude },
                    reversal: false,
                    counterparty: None,
                    reference: (!bank_ref.is_empty()).then(|| bank_ref.to_owned()),
                    text: (!text.is_empty()).then(|| text.to_owned()),
                });
            }
            "49" => {
                let (statement, total, count) = current
                    .take()
                    .ok_or_else(|| at("an account trailer outside an account".to_owned()))?;
                let fields: Vec<&str> = body.split(',').collect();
                if release == Release::V1_4_3 {
                    let control = bai2_amount(fields.first().copied().unwrap_or_default())
                        .map_err(&at)?
                        .unwrap_or(0);
                    let records: usize = fields
                        .get(1)
                        .and_then(|n| n.trim().parse().ok())
                        .ok_or_else(|| at("no record count".to_owned()))?;
                    let seen = count + record.physical;
                    if control != total || records != seen {
                        return Err(at(format!(
                            "account {}: the trailer says control total {control} over {records} records, the file holds {total} over {seen}",
                            statement.account
                        )));
                    }
                }
                statements.push(statement);
            }
            _ => {}
        }
        if let Some((_, _, count)) = current.as_mut()
            && record.code != "03"
            && record.code != "16"
        {
            *count += record.physical;
        }
    }
    if current.is_some() {
        return Err("an account (`03`) has no trailer (`49`)".to_owned());
    }
    Ok(statements)
}

/// A BAI2 amount: whole minor units, optionally signed; empty means none.
fn bai2_amount(text: &str) -> Result<Option<i128>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("amount `{text}` is not whole minor units"));
    }
    text.parse()
        .map(Some)
        .map_err(|_| format!("amount `{text}` is not a number"))
}

/// Minor units as a decimal amount of `currency`.
fn units(minor: i128, currency: &str) -> Decimal {
    let minor = i64::try_from(minor).unwrap_or(i64::MAX);
    Decimal::new(minor, minor_units(currency))
}

/// How many fields follow a funds type: `S` three (immediate, one-day, two-or-more-day
/// amounts), `V` two (value date and time); `Z`, `0`, `1`, `2` or empty none. `D`
/// (distributed, a count then pairs) is refused, as other unknown types.
fn funds_fields(funds: &str) -> Result<usize, String> {
    match funds {
        "" | "Z" | "0" | "1" | "2" => Ok(0),
        "S" => Ok(3),
        "V" => Ok(2),
        other => Err(format!("funds type `{other}` is not supported")),
    }
}

/// The summary fields after the funds type `funds` of an `03` group.
fn skip_funds_fields<'a>(funds: &str, tail: &'a [&'a str]) -> Result<&'a [&'a str], String> {
    Ok(tail.get(funds_fields(funds)?..).unwrap_or_default())
}

/// The text of a `16` after its funds type `funds` and the fields that type adds.
fn skip_funds_text<'a>(funds: &str, after: &'a str) -> Result<&'a str, String> {
    let mut rest = after;
    for _ in 0..funds_fields(funds)? {
        rest = rest.split_once(',').map_or("", |(_, r)| r);
    }
    Ok(rest)
}

// ---------------------------------------------------------------------------------------------
// camt.053

/// The child elements of `parent` with the local name `local` in the document's namespace.
pub(crate) fn kids<'d>(parent: Element<'d>, local: &str) -> Vec<Element<'d>> {
    let namespace = parent.name().namespace_uri();
    parent
        .children()
        .into_iter()
        .filter_map(|child| child.element())
        .filter(|e| e.name().local_part() == local && e.name().namespace_uri() == namespace)
        .collect()
}

/// The element at the path of local names below `parent`, the first at each step.
pub(crate) fn at_path<'d>(parent: Element<'d>, path: &[&str]) -> Option<Element<'d>> {
    path.iter().try_fold(parent, |element, local| {
        kids(element, local).into_iter().next()
    })
}

/// The trimmed text of the element at `path` below `parent`, when there is some.
pub(crate) fn text_at(parent: Element<'_>, path: &[&str]) -> Option<String> {
    let text = raw_text(at_path(parent, path)?);
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The text children of `element`, as they are.
fn raw_text(element: Element<'_>) -> String {
    element
        .children()
        .into_iter()
        .filter_map(|child| child.text().map(|t| t.text().to_owned()))
        .collect()
}

/// The statements of a camt.053 message.
pub fn parse_camt(text: &str, release: Release) -> Result<Vec<Statement>, String> {
    let package = crate::saml::parse_xml(text.trim_start_matches('\u{feff}'), "the camt file")?;
    let document = package.as_document();
    let root = crate::saml::document_element(&document).ok_or("the camt file is empty")?;
    let namespace = root.name().namespace_uri().unwrap_or_default().to_owned();
    let version: u32 = namespace
        .strip_prefix(CAMT053)
        .and_then(|v| v.parse().ok())
        .filter(|_| root.name().local_part() == "Document")
        .ok_or_else(|| format!("not a camt.053 document (namespace `{namespace}`)"))?;
    let message = at_path(root, &["BkToCstmrStmt"]).ok_or("no `BkToCstmrStmt`")?;
    let mut statements = Vec::new();
    for stmt in kids(message, "Stmt") {
        statements.push(camt_statement(stmt, version, release)?);
    }
    Ok(statements)
}

/// One `Stmt`.
fn camt_statement(stmt: Element<'_>, version: u32, release: Release) -> Result<Statement, String> {
    let id = text_at(stmt, &["Id"]).unwrap_or_default();
    let at = |what: &str| format!("statement `{id}`: {what}");
    let account = text_at(stmt, &["Acct", "Id", "IBAN"])
        .or_else(|| text_at(stmt, &["Acct", "Id", "Othr", "Id"]))
        .ok_or_else(|| at("no account `Acct/Id`"))?;
    let mut currency = text_at(stmt, &["Acct", "Ccy"]).unwrap_or_default();
    let mut statement = Statement {
        account,
        currency: String::new(),
        opening: None,
        closing: None,
        entries: Vec::new(),
    };
    for bal in kids(stmt, "Bal") {
        let code = text_at(bal, &["Tp", "CdOrPrtry", "Cd"]).unwrap_or_default();
        let (amount, ccy) = camt_amount(bal).map_err(|e| at(&e))?;
        if currency.is_empty() {
            currency.clone_from(&ccy);
        }
        let debit = text_at(bal, &["CdtDbtInd"]).as_deref() == Some("DBIT");
        let date = text_at(bal, &["Dt", "Dt"])
            .or_else(|| text_at(bal, &["Dt", "DtTm"]))
            .and_then(|d| iso_date(&d));
        let balance = Balance {
            amount: with_minor_units(balance_amount(release, amount, debit), &ccy),
            date,
        };
        // A paginated statement opens a later page and closes an earlier one with an interim
        // balance (`ITBD`): the first on a page opens it unless `OPBD` does.
        match code.as_str() {
            "OPBD" | "PRCD" => statement.opening = Some(balance),
            "CLBD" => statement.closing = Some(balance),
            "ITBD" if statement.opening.is_none() => statement.opening = Some(balance),
            "ITBD" if statement.closing.is_none() => statement.closing = Some(balance),
            _ => {}
        }
    }
    for ntry in kids(stmt, "Ntry") {
        // `.02` writes `<Sts>BOOK</Sts>`, `.08` `<Sts><Cd>BOOK</Cd></Sts>`.
        let status = text_at(ntry, &["Sts", "Cd"])
            .or_else(|| text_at(ntry, &["Sts"]))
            .unwrap_or_default();
        if status != "BOOK" {
            continue;
        }
        let (magnitude, ccy) = camt_amount(ntry).map_err(|e| at(&e))?;
        let credit = match text_at(ntry, &["CdtDbtInd"]).as_deref() {
            Some("CRDT") => true,
            Some("DBIT") => false,
            _ => return Err(at("an entry without `CdtDbtInd` CRDT or DBIT")),
        };
        let reversal = text_at(ntry, &["RvslInd"]).as_deref() == Some("true");
        let booked = text_at(ntry, &["BookgDt", "Dt"])
            .or_else(|| text_at(ntry, &["BookgDt", "DtTm"]))
            .and_then(|d| iso_date(&d))
            .ok_or_else(|| at("an entry without a booking date"))?;
        let details = at_path(ntry, &["NtryDtls", "TxDtls"]);
        // The other party: the debtor of money in, the creditor of money out; a reversal keeps
        // the roles of the entry it reverses.
        let role = if credit != reversal { "Dbtr" } else { "Cdtr" };
        let counterparty = details.and_then(|tx| camt_party_name(tx, role, version, release));
        // The purpose: the `Ustrd` pieces (140 characters each) joined as they were cut.
        let text = details
            .and_then(|tx| at_path(tx, &["RmtInf"]))
            .map(|rmt| {
                kids(rmt, "Ustrd")
                    .into_iter()
                    .map(raw_text)
                    .collect::<String>()
            })
            .map(|text| text.trim().to_owned());
        statement.entries.push(Entry {
            booked,
            amount: with_minor_units(if credit { magnitude } else { -magnitude }, &ccy),
            reversal,
            counterparty,
            reference: text_at(ntry, &["AcctSvcrRef"]),
            text: text.filter(|t| !t.is_empty()),
        });
    }
    statement.currency = currency;
    Ok(statement)
}

/// SUP-5229: the name of the party in `role` (`Dbtr`, `Cdtr`) of a `TxDtls`.
fn camt_party_name(tx: Element<'_>, role: &str, version: u32, release: Release) -> Option<String> {
    match release {
        // SUP-5229 (bug): 1.4.2 was written against camt.053.001.02 and reads
        // `RltdPties/Dbtr/Nm` in every version; from .001.08 on the party is wrapped in `Pty`
        // (`RltdPties/Dbtr/Pty/Nm`), so after the bank's switch every payer name is empty.
        Release::V1_4_2 => text_at(tx, &["RltdPties", role, "Nm"]),
        // SUP-5229 (fix): 1.4.3 maps by the version the namespace names: `Pty/Nm` from .001.08
        // (Party40Choice), `Nm` before.
        Release::V1_4_3 if version >= 8 => text_at(tx, &["RltdPties", role, "Pty", "Nm"]),
        Release::V1_4_3 => text_at(tx, &["RltdPties", role, "Nm"]),
    }
}

/// The `Amt` of an element: its decimal value and its `Ccy`.
fn camt_amount(element: Element<'_>) -> Result<(Decimal, String), String> {
    let amt = at_path(element, &["Amt"]).ok_or("no `Amt`")?;
    let currency = amt.attribute_value("Ccy").unwrap_or_default().to_owned();
    let text = raw_text(amt).trim().to_owned();
    let valid = !text.is_empty()
        && text.len() <= 19
        && text.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    let amount = valid
        .then(|| Decimal::from_str(&text).ok())
        .flatten()
        .ok_or_else(|| format!("amount `{text}` is not a decimal"))?;
    Ok((amount, currency))
}

/// `YYYY-MM-DD` (or the date of a date-time).
fn iso_date(text: &str) -> Option<Date> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(text.get(..10)?, format).ok()
}

// ---------------------------------------------------------------------------------------------
// JSON

/// A decimal or a date as its text.
fn text<S: serde::Serializer, T: fmt::Display>(
    value: &T,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

/// An optional decimal or date as its text, or `null`.
fn optional_text<S: serde::Serializer, T: fmt::Display>(
    value: &Option<T>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}

fn is_zero(count: &usize) -> bool {
    *count == 0
}

#[cfg(test)]
mod tests {
    //! The parsers on the files reenact's `provider: bank` writes (its golden outputs, byte for
    //! byte) and on shapes of the public samples the catalog cites, on both releases; the
    //! incidents SUP-5201, SUP-5208, SUP-5215, SUP-5222 and SUP-5229; and inputs that must be
    //! refused without a panic.

    use std::time::Duration;

    use super::*;
    use crate::bank::Credentials;

    const OLD: Release = Release::V1_4_2;
    const NEW: Release = Release::V1_4_3;

    fn dec(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    fn day(text: &str) -> Date {
        iso_date(text).expect("a date")
    }

    /// `(booked, amount, reversal, counterparty, reference, text)` of an entry.
    type Line<'a> = (
        String,
        String,
        bool,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    );

    /// Each entry of `statement` as a [`Line`].
    fn lines(statement: &Statement) -> Vec<Line<'_>> {
        statement
            .entries
            .iter()
            .map(|e| {
                (
                    e.booked.to_string(),
                    e.amount.to_string(),
                    e.reversal,
                    e.counterparty.as_deref(),
                    e.reference.as_deref(),
                    e.text.as_deref(),
                )
            })
            .collect()
    }

    fn balances(statement: &Statement) -> (Option<String>, Option<String>) {
        (
            statement.opening.as_ref().map(|b| b.amount.to_string()),
            statement.closing.as_ref().map(|b| b.amount.to_string()),
        )
    }

    /// `provider: bank`'s MT940 of its test ledger, one page, free details (the golden file of
    /// `src/mock/providers/bank/mt940.rs`).
    const PROVIDER_MT940: &str =
        include_str!("../../src/mock/providers/bank/testdata/mt940-one-page.sta");

    /// The same ledger on two pages with German structured details and CRLF.
    const PROVIDER_MT940_PAGES: &str =
        include_str!("../../src/mock/providers/bank/testdata/mt940-pages-structured-crlf.sta");

    #[test]
    fn mt940_from_the_provider_on_1_4_3() {
        let statements = parse_mt940(PROVIDER_MT940, NEW).expect("parses");
        assert_eq!(statements.len(), 1);
        let statement = &statements[0];
        assert_eq!(statement.account, "DE89370400440532013000");
        assert_eq!(statement.currency, "EUR");
        assert_eq!(
            balances(statement),
            (Some("-1200.50".into()), Some("449.60".into()))
        );
        assert_eq!(
            statement.opening.as_ref().and_then(|b| b.date),
            Some(day("2026-11-01"))
        );
        assert_eq!(
            lines(statement),
            [
                (
                    "2026-11-02".into(),
                    "-250.00".into(),
                    false,
                    None,
                    Some("B26110200001"),
                    Some("Invoice 42 Lumen Lab DE02120300000000202051 BYLADEM1001")
                ),
                (
                    "2026-11-02".into(),
                    "-99.90".into(),
                    true,
                    None,
                    None,
                    Some("Return of payment 17")
                ),
                (
                    "2026-11-03".into(),
                    "2000.00".into(),
                    false,
                    None,
                    None,
                    Some("Deposit")
                ),
            ]
        );
    }

    #[test]
    fn sup_5208_and_sup_5215_mt940_signs_on_1_4_2() {
        let statements = parse_mt940(PROVIDER_MT940, OLD).expect("parses");
        let statement = &statements[0];
        // The overdrawn opening balance loses its `D`; `RC` reads as money in.
        assert_eq!(
            balances(statement),
            (Some("1200.50".into()), Some("449.60".into()))
        );
        let amounts: Vec<String> = statement
            .entries
            .iter()
            .map(|e| e.amount.to_string())
            .collect();
        assert_eq!(amounts, ["-250.00", "99.90", "2000.00"]);
    }

    #[test]
    fn sup_5215_reversal_marks_by_release() {
        for (mark, old, new) in [
            ("C", true, true),
            ("D", false, false),
            ("RC", true, false),
            ("RD", false, true),
        ] {
            assert_eq!(mt940_credit(OLD, mark), old, "1.4.2 {mark}");
            assert_eq!(mt940_credit(NEW, mark), new, "1.4.3 {mark}");
        }
    }

    #[test]
    fn mt940_pages_are_joined_and_structured_details_read_on_1_4_3() {
        let statements = parse_mt940(PROVIDER_MT940_PAGES, NEW).expect("parses");
        assert_eq!(statements.len(), 1);
        let statement = &statements[0];
        assert_eq!(
            balances(statement),
            (Some("-1200.50".into()), Some("449.60".into()))
        );
        let entries = lines(statement);
        assert_eq!(entries.len(), 3);
        assert_eq!(entries[0].3, Some("Lumen Lab"));
        assert_eq!(entries[0].5, Some("EREF+E2E-4711SVWZ+Invoice 42"));
        assert_eq!(entries[1].1, "-99.90");
        assert_eq!(entries[2].5, Some("SVWZ+Deposit"));
    }

    /// Two accounts in one file, the first over two pages (the shape of the SUP-5201 scenario;
    /// wolph/mt940's multi-block samples such as `jejik/abnamro.sta` hold several `:20:` blocks).
    const TWO_ACCOUNTS: &str = "\
:20:261104-41
:25:DE89370400440532013000
:28C:41/1
:60F:C261101EUR15230,40
:61:2611021102C12500,00NTRFNONREF//CB26110200417
:86:RE 2026-1187 Brandt Logistik AG
:61:2611021102D3480,15NTRFNONREF//CB26110200418
:62M:C261102EUR24250,25
-
:20:261104-41
:25:DE89370400440532013000
:28C:41/2
:60M:C261102EUR24250,25
:61:2611031103D980,00NTRFNONREF//CB26110300102
:62F:C261103EUR23270,25
-
:20:261104-41
:25:DE02120300000000202051
:28C:41/1
:60F:C261101EUR48000,00
:61:2611031103D41250,00NTRFNONREF//CB26110300217
:62F:C261103EUR6750,00
-
";

    #[test]
    fn sup_5201_one_statement_per_account_on_1_4_3_and_per_file_on_1_4_2() {
        let new = parse_mt940(TWO_ACCOUNTS, NEW).expect("parses");
        assert_eq!(new.len(), 2);
        assert_eq!(new[0].account, "DE89370400440532013000");
        assert_eq!(
            balances(&new[0]),
            (Some("15230.40".into()), Some("23270.25".into()))
        );
        assert_eq!(new[0].entries.len(), 3);
        assert_eq!(new[1].account, "DE02120300000000202051");
        assert_eq!(
            balances(&new[1]),
            (Some("48000.00".into()), Some("6750.00".into()))
        );
        assert_eq!(new[1].entries.len(), 1);

        let old = parse_mt940(TWO_ACCOUNTS, OLD).expect("parses");
        assert_eq!(old.len(), 1);
        assert_eq!(old[0].account, "DE02120300000000202051");
        assert_eq!(
            balances(&old[0]),
            (Some("48000.00".into()), Some("6750.00".into()))
        );
        assert_eq!(old[0].entries.len(), 4);
    }

    #[test]
    fn sup_5201_broken_chains_are_refused_on_1_4_3() {
        // Page 2 adds up on its own but does not open where page 1 closed.
        let gap = TWO_ACCOUNTS
            .replace(":60M:C261102EUR24250,25", ":60M:C261102EUR24250,26")
            .replace(":62F:C261103EUR23270,25", ":62F:C261103EUR23270,26");
        let error = parse_mt940(&gap, NEW).expect_err("the pages do not chain");
        assert!(
            error.contains("opens with 24250.26 but the page before closed with 24250.25"),
            "{error}"
        );
        let sum = TWO_ACCOUNTS.replace(":62F:C261103EUR6750,00", ":62F:C261103EUR6750,01");
        let error = parse_mt940(&sum, NEW).expect_err("the lines do not add up");
        assert!(
            error.contains("is not the closing balance 6750.01"),
            "{error}"
        );
        let orphan = TWO_ACCOUNTS.replacen(":60M:", ":60F:", 1);
        let error = parse_mt940(&orphan, NEW).expect_err("a 62M page without its next page");
        assert!(error.contains("no `:60M:` page follows"), "{error}");
        assert!(parse_mt940(&gap, OLD).is_ok(), "1.4.2 checks nothing");
    }

    #[test]
    fn mt940_amounts_dates_and_odd_lines() {
        assert_eq!(swift_amount("380115,"), Some(dec("380115")));
        assert_eq!(swift_amount("0,12"), Some(dec("0.12")));
        assert_eq!(swift_amount("001,12"), Some(dec("1.12")));
        assert_eq!(swift_amount("12.50"), None);
        assert_eq!(swift_amount(",5"), None);
        assert_eq!(swift_amount("1,2,3"), None);
        assert_eq!(yymmdd("260230"), None);
        // The entry date's year across the turn of the year.
        let field = Field {
            tag: "61".into(),
            lines: vec!["2701021231RD12,NCHGNONREF".into()],
            line: 1,
        };
        let entry = mt940_entry(&field, None, "JPY", NEW).expect("parses");
        assert_eq!((entry.booked, entry.amount), (day("2026-12-31"), dec("12")));
        let field = Field {
            tag: "61".into(),
            lines: vec!["261103CR1,00NTRF".into()],
            line: 3,
        };
        let entry = mt940_entry(&field, None, "EUR", NEW).expect("a funds code");
        assert_eq!(entry.amount, dec("1.00"));
        for bad in [
            "",
            "2611",
            "261103X1,00NTRF",
            "261103C1.00NTRF",
            "261399C1,00",
        ] {
            let field = Field {
                tag: "61".into(),
                lines: vec![bad.into()],
                line: 9,
            };
            assert!(mt940_entry(&field, None, "EUR", NEW).is_err(), "{bad:?}");
        }
    }

    /// `provider: bank`'s BAI2 of its test ledger (the golden file of
    /// `src/mock/providers/bank/bai2.rs`).
    const PROVIDER_BAI2: &str =
        include_str!("../../src/mock/providers/bank/testdata/bai2-variable.bai");

    /// The same with `record_length: 30`: most records continue in `88`s.
    const PROVIDER_BAI2_88: &str =
        include_str!("../../src/mock/providers/bank/testdata/bai2-record-length-30.bai");

    #[test]
    fn bai2_from_the_provider_on_both_releases() {
        for release in [OLD, NEW] {
            let statements = parse_bai2(PROVIDER_BAI2, release).expect("parses");
            assert_eq!(statements.len(), 2, "{release}");
            assert_eq!(
                balances(&statements[0]),
                (Some("-1200.50".into()), Some("-1550.40".into()))
            );
            assert_eq!(
                lines(&statements[0]),
                [
                    (
                        "2026-11-02".into(),
                        "-250.00".into(),
                        false,
                        None,
                        Some("B26110200001"),
                        Some("Invoice 42 Lumen Lab")
                    ),
                    (
                        "2026-11-02".into(),
                        "-99.90".into(),
                        false,
                        None,
                        None,
                        Some("Return of payment 17")
                    ),
                ]
            );
            assert_eq!(
                balances(&statements[1]),
                (Some("-1550.40".into()), Some("449.60".into()))
            );
            assert_eq!(statements[1].entries[0].amount, dec("2000.00"));
        }
    }

    #[test]
    fn sup_5222_continuations_joined_on_1_4_3_and_dropped_on_1_4_2() {
        let new = parse_bai2(PROVIDER_BAI2_88, NEW).expect("parses");
        let plain = parse_bai2(PROVIDER_BAI2, NEW).expect("parses");
        assert_eq!(
            new, plain,
            "the 88s carry the same statement as one long record each"
        );

        // With every header continued, 1.4.2 cannot even read the group's as-of date.
        let error = parse_bai2(PROVIDER_BAI2_88, OLD).expect_err("the 02 lost its date");
        assert!(error.contains("as-of date"), "{error}");
        // With only the texts continued, 1.4.2 reads the file and cuts them.
        let texts = PROVIDER_BAI2
            .replace("Return of payment 17", "Return of\n88,payment 17")
            .replace("49,-205110,4/", "49,-205110,5/")
            .replace("98,-205110,1,6/", "98,-205110,1,7/")
            .replace("99,84810,2,13/", "99,84810,2,14/");
        let old = parse_bai2(&texts, OLD).expect("parses");
        assert_eq!(old[0].entries[1].text.as_deref(), Some("Return of"));
        assert_eq!(
            balances(&old[0]),
            (Some("-1200.50".into()), Some("-1550.40".into()))
        );
        let new = parse_bai2(&texts, NEW).expect("parses");
        assert_eq!(
            new[0].entries[1].text.as_deref(),
            Some("Return of payment 17")
        );
    }

    #[test]
    fn bai2_trailers_are_checked_on_1_4_3() {
        let count = PROVIDER_BAI2.replace("49,-205110,4/", "49,-205110,5/");
        let error = parse_bai2(&count, NEW).expect_err("the record count is off");
        assert!(
            error.contains("over 5 records, the file holds -205110 over 4"),
            "{error}"
        );
        let total = PROVIDER_BAI2.replace("49,289920,3/", "49,289921,3/");
        assert!(parse_bai2(&total, NEW).is_err());
        assert!(parse_bai2(&count, OLD).is_ok(), "1.4.2 checks no trailer");
    }

    #[test]
    fn bai2_funds_types_currencies_and_refusals() {
        let file = "01,X,Y,261104,0555,1,,,2/\n02,Y,X,1,261103,0555,,/\n\
                    03,1234567,JPY,010,5000,,S,1,2,3,015,7700,,V,261103,1200/\n\
                    16,142,2700,S,100,200,2400,B1,C1,ACH credit, ref 08/18/23\n49,15400,3/\n98,15400,1,5/\n99,15400,1,7/\n";
        let statements = parse_bai2(file, NEW).expect("parses");
        assert_eq!(
            balances(&statements[0]),
            (Some("5000".into()), Some("7700".into()))
        );
        assert_eq!(
            lines(&statements[0]),
            [(
                "2026-11-03".into(),
                "2700".into(),
                false,
                None,
                Some("B1"),
                Some("ACH credit, ref 08/18/23")
            )]
        );
        let usd = "01,X/\n02,Y,X,1,261103/\n03,9/\n16,475,123,Z/\n49,123,3/\n";
        assert_eq!(
            parse_bai2(usd, NEW).expect("parses")[0].entries[0].amount,
            dec("-1.23")
        );
        for bad in [
            "",
            "02,Y/\n",
            "88,orphan/\n01,X/\n",
            "01,X/\n02,Y,X,1,261103/\n03,9,USD,010,12.5,,/\n49,0,2/\n",
            "01,X/\n02,Y,X,1,261103/\n03,9,USD,010,1,,D/\n49,1,2/\n",
            "01,X/\n02,Y,X,1,261103/\n03,9/\n16,950,1,Z/\n49,1,3/\n",
            "01,X/\n02,Y,X,1,261103/\n03,9/\n",
            "01,X/\n16,195,1,Z/\n",
        ] {
            assert!(parse_bai2(bad, NEW).is_err(), "{bad:?}");
        }
    }

    const PROVIDER_CAMT_02: &str =
        include_str!("../../src/mock/providers/bank/testdata/camt.053.001.02.xml");
    const PROVIDER_CAMT_08: &str =
        include_str!("../../src/mock/providers/bank/testdata/camt.053.001.08.xml");

    #[test]
    fn camt_from_the_provider_in_both_versions_on_1_4_3() {
        for xml in [PROVIDER_CAMT_02, PROVIDER_CAMT_08] {
            let statements = parse_camt(xml, NEW).expect("parses");
            assert_eq!(statements.len(), 2);
            let eur = &statements[0];
            assert_eq!(
                (eur.account.as_str(), eur.currency.as_str()),
                ("DE89370400440532013000", "EUR")
            );
            assert_eq!(
                balances(eur),
                (Some("-1200.50".into()), Some("-200.50".into()))
            );
            assert_eq!(
                lines(eur),
                [
                    (
                        "2026-11-02".into(),
                        "-250.00".into(),
                        false,
                        Some("Lumen Lab"),
                        Some("B26110200001"),
                        Some("Invoice 42 & <co>")
                    ),
                    (
                        "2026-11-02".into(),
                        "1000.00".into(),
                        false,
                        Some("Orbit GmbH"),
                        None,
                        None
                    ),
                    (
                        "2026-11-02".into(),
                        "250.00".into(),
                        true,
                        Some("Lumen Lab"),
                        None,
                        None
                    ),
                ]
            );
            let jpy = &statements[1];
            assert_eq!(
                (jpy.account.as_str(), jpy.currency.as_str()),
                ("1234567", "JPY")
            );
            assert_eq!(balances(jpy), (Some("5000".into()), Some("7700".into())));
            assert_eq!(jpy.entries[0].amount, dec("2700"));
        }
    }

    #[test]
    fn sup_5229_and_sup_5208_camt_on_1_4_2() {
        let v02 = parse_camt(PROVIDER_CAMT_02, OLD).expect("parses");
        let v08 = parse_camt(PROVIDER_CAMT_08, OLD).expect("parses");
        let names = |s: &Statement| {
            s.entries
                .iter()
                .map(|e| e.counterparty.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&v02[0]),
            [
                Some("Lumen Lab".into()),
                Some("Orbit GmbH".into()),
                Some("Lumen Lab".into())
            ]
        );
        assert_eq!(names(&v08[0]), [None, None, None]);
        assert_eq!(
            balances(&v02[0]),
            (Some("1200.50".into()), Some("200.50".into()))
        );
    }

    /// The shapes of genkgo/camt's `camt053.v8.xml` the provider does not write: both parties
    /// of a credit named (the payer is the `Dbtr`), a booking date-time, other balance types,
    /// a structured remittance only.
    #[test]
    fn camt_v08_with_both_parties_and_a_booking_time() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"><BkToCstmrStmt><GrpHdr><MsgId>M1</MsgId></GrpHdr>
<Stmt><Id>S1</Id><Acct><Id><Othr><Id>NL26VAYB8060476890</Id></Othr></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">18.15</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2014-12-30</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>OPAV</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">35.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2014-12-30</Dt></Dt></Bal>
<Ntry><Amt Ccy="EUR">8.85</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><DtTm>2014-12-31T13:15:00+01:00</DtTm></BookgDt>
<AcctSvcrRef>AAAASESS-FP-CN_98765/01</AcctSvcrRef><NtryDtls><TxDtls><RltdPties>
<Dbtr><Pty><Nm>NAME NAME</Nm></Pty></Dbtr><Cdtr><Pty><Nm>Company Name</Nm></Pty></Cdtr></RltdPties>
<RmtInf><Strd><CdtrRefInf><Ref>4654654654654654</Ref></CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>
<Ntry><Amt Ccy="EUR">1.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>PDNG</Cd></Sts><BookgDt><Dt>2014-12-31</Dt></BookgDt></Ntry>
</Stmt></BkToCstmrStmt></Document>"#;
        let statements = parse_camt(xml, NEW).expect("parses");
        let statement = &statements[0];
        assert_eq!(statement.currency, "EUR");
        assert_eq!(balances(statement), (Some("18.15".into()), None));
        assert_eq!(
            lines(statement),
            [(
                "2014-12-31".into(),
                "8.85".into(),
                false,
                Some("NAME NAME"),
                Some("AAAASESS-FP-CN_98765/01"),
                None
            )],
            "a pending entry is not booked"
        );
        assert_eq!(
            parse_camt(xml, OLD).expect("parses")[0].entries[0].counterparty,
            None
        );
    }

    #[test]
    fn camt_pages_open_and_close_with_interim_balances() {
        let xml = |codes: [&str; 2]| {
            format!(
                r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt><Stmt><Acct><Id><IBAN>X</IBAN></Id></Acct>
<Bal><Tp><CdOrPrtry><Cd>{}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">1</Amt><CdtDbtInd>DBIT</CdtDbtInd><Dt><Dt>2026-11-02</Dt></Dt></Bal>
<Bal><Tp><CdOrPrtry><Cd>{}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">2</Amt><CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>2026-11-03</Dt></Dt></Bal>
</Stmt></BkToCstmrStmt></Document>"#,
                codes[0], codes[1]
            )
        };
        for codes in [["OPBD", "ITBD"], ["ITBD", "CLBD"], ["ITBD", "ITBD"]] {
            let statements = parse_camt(&xml(codes), NEW).expect("parses");
            assert_eq!(
                balances(&statements[0]),
                (Some("-1.00".into()), Some("2.00".into())),
                "{codes:?}"
            );
        }
    }

    #[test]
    fn camt_refusals() {
        let cases = [
            (
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.054.001.02\"/>",
                "not a camt.053 document",
            ),
            (
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"/>",
                "no `BkToCstmrStmt`",
            ),
            ("<!DOCTYPE x [<!ENTITY a \"b\">]><Document/>", "DOCTYPE"),
            ("not xml", "is not XML"),
            (
                "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.02\"><BkToCstmrStmt><Stmt><Acct/></Stmt></BkToCstmrStmt></Document>",
                "no account",
            ),
        ];
        for (xml, reason) in cases {
            let error = parse_camt(xml, NEW).expect_err(xml);
            assert!(error.contains(reason), "{xml}: {error}");
        }
        let deep = format!("{}{}", "<a>".repeat(200), "</a>".repeat(200));
        assert!(
            parse_camt(&deep, NEW)
                .expect_err("too deep")
                .contains("nests deeper")
        );
        let amount = PROVIDER_CAMT_08.replacen("1200.50", "1,200.50", 1);
        assert!(
            parse_camt(&amount, NEW)
                .expect_err("a comma")
                .contains("is not a decimal")
        );
    }

    #[test]
    fn no_input_panics_and_large_files_are_refused() {
        let mut seed: u64 = 0x5201_5229;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let alphabet = b":0123456789CDRMF/,-\n?<>Document 886116";
        let sources = [PROVIDER_MT940, PROVIDER_BAI2_88, PROVIDER_CAMT_08];
        for round in 0..300 {
            let source = sources[round % sources.len()].as_bytes();
            let mut bytes = source.to_vec();
            for _ in 0..8 {
                let at = usize::try_from(next() % bytes.len() as u64).unwrap_or(0);
                let with = alphabet[usize::try_from(next() % alphabet.len() as u64).unwrap_or(0)];
                match next() % 3 {
                    0 => bytes[at] = with,
                    1 => bytes.insert(at, with),
                    _ => {
                        bytes.truncate(at.max(1));
                    }
                }
            }
            for format in [Format::Mt940, Format::Bai2, Format::Camt053] {
                for release in [OLD, NEW] {
                    let _ = parse(format, &bytes, release);
                }
            }
        }
        let large = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(
            parse(Format::Mt940, &large, NEW)
                .expect_err("large")
                .contains("larger than")
        );
    }

    #[test]
    fn formats_by_listing_or_content_and_names_as_path_segments() {
        assert_eq!(
            Format::from_listing("camt.053.001.08"),
            Some(Format::Camt053)
        );
        assert_eq!(Format::from_listing("raw"), None);
        assert_eq!(Format::sniff(PROVIDER_BAI2.as_bytes()), Some(Format::Bai2));
        assert_eq!(
            Format::sniff(PROVIDER_MT940.as_bytes()),
            Some(Format::Mt940)
        );
        assert_eq!(
            Format::sniff(PROVIDER_CAMT_02.as_bytes()),
            Some(Format::Camt053)
        );
        assert_eq!(Format::sniff(b"hello"), None);
        assert_eq!(path_segment("a b/ü.sta"), "a%20b%2F%C3%BC.sta");
        // ISO 8859-1 bytes (an umlaut outside UTF-8) are read, not refused.
        let latin = PROVIDER_MT940.replace("Deposit", "Einzahlung M\u{fc}ller");
        let bytes: Vec<u8> = latin
            .chars()
            .map(|c| u8::try_from(u32::from(c)).unwrap_or(b'?'))
            .collect();
        let statements = parse(Format::Mt940, &bytes, NEW).expect("parses");
        assert_eq!(
            statements[0].entries[2].text.as_deref(),
            Some("Einzahlung M\u{fc}ller")
        );
    }

    #[test]
    fn a_ledger_books_statements_and_keeps_the_latest_closing_balance() {
        let mut ledger = Ledger::default();
        for statement in parse_bai2(PROVIDER_BAI2, NEW).expect("parses") {
            ledger.apply("daily.bai", statement);
        }
        let account = &ledger.accounts["DE89370400440532013000"];
        assert_eq!(account.opening_balance, Some(dec("-1200.50")));
        assert_eq!(
            (account.balance, account.balance_date),
            (Some(dec("449.60")), Some(day("2026-11-03")))
        );
        let json = serde_json::to_value(account).expect("JSON");
        assert_eq!(json["transactions"][0]["direction"], "debit");
        assert_eq!(json["transactions"][2]["amount"], "2000.00");
        assert_eq!(json["transactions"][2]["file"], "daily.bai");
    }

    #[test]
    fn the_sftp_import_leaves_payment_status_reports_alone() {
        assert!(is_payment_report("MSG-0001-pain.002-1.xml"));
        assert!(is_payment_report("status.PAIN.002.xml"));
        assert!(!is_payment_report("hartmann-2026-11-03.sta"));
        assert!(!is_payment_report("stmt-camt.053.xml"));
    }

    #[tokio::test]
    async fn the_intake_books_a_file_once_and_a_refused_file_not_at_all() {
        let statements = Statements {
            release: NEW,
            channel: Channel::Http(HttpChannel(BankHttp {
                base_url: "http://127.0.0.1:9".into(),
                credentials: Credentials::None,
                http: crate::connector::http_client(Duration::from_secs(1)).expect("a client"),
            })),
            ledger: Mutex::new(Ledger::default()),
        };
        let file = |name: &str, format: Option<Format>, text: &str| Delivered {
            name: name.into(),
            format,
            bytes: Bytes::from(text.to_owned()),
        };
        let broken = PROVIDER_BAI2.replace("49,289920,3/", "49,289921,3/");
        let summary = statements
            .import_files(vec![
                file("a.sta", None, PROVIDER_MT940),
                file("b.bai", Some(Format::Bai2), &broken),
                file("c.txt", None, "hello"),
            ])
            .await;
        assert_eq!(summary.imported, ["a.sta"]);
        let failed: Vec<&str> = summary.failed.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(failed, ["b.bai", "c.txt"]);
        assert!(summary.failed[1].error.contains("not a statement format"));
        assert_eq!((summary.statements, summary.transactions), (1, 3));

        // Again: the imported file is left alone, the refused one is tried again (and books
        // nothing of its first day although that day alone was sound).
        let again = statements
            .import_files(vec![
                file("a.sta", None, PROVIDER_MT940),
                file("b.bai", None, &broken),
            ])
            .await;
        assert_eq!((again.already_imported, again.imported.len()), (1, 0));
        let accounts = statements.accounts().await;
        let transactions = &accounts["accounts"][0]["transactions"];
        assert_eq!(transactions.as_array().map(Vec::len), Some(3));
        assert_eq!(accounts["accounts"][0]["balance"], "449.60");
    }
}
