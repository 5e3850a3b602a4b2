//! The bank's payment intake: a pain.001 file received ([`receive`]) is checked in two layers
//! (catalog §6.4, "schema-valid and accepted are different") — its schema ([`super::xsd`]),
//! then the bank's profile ([`PaymentProfile`]: control sums and counts, currency decimals, the
//! execution date against cut-off and business days, a duplicate `MsgId`, the outcomes the
//! scenario declares) — and its life as the pain.002 reports tell it is planned at once
//! ([`PaymentFile::reports`]): `RCVD` at receipt, `ACTC` after `accepted`, `ACSP` (or `PART`)
//! after `pending`, `ACSC` on the execution date. What a client sees at a virtual time is the
//! reports due by then, rendered on demand ([`super::pain002`]), so nothing runs in the
//! background and every byte follows from the scenario and the clock.

use rust_decimal::Decimal;
use sxd_document::dom::Element;
use time::{Date, Duration, OffsetDateTime, Time, UtcOffset, Weekday};

use super::xsd::{Pain001Version, Schema, prescan};
use crate::money::minor_units;
use crate::scenario::model::{AfterCutOff, PaymentProfile, PaymentStage};

/// The most payment files one run records (reenact's bound; later uploads are refused).
pub(crate) const MAX_FILES: usize = 1_000;
/// The most transactions all payment files of a run hold together (reenact's bound; a file that
/// would pass it is refused).
pub(crate) const MAX_TRANSACTIONS: usize = 100_000;
/// The longest reason text kept: ten `AddtlInf` of 105 characters.
const MAX_INFO: usize = 1_050;

/// A status of ISO 20022 (`TransactionGroupStatus3Code` / `TransactionIndividualStatus3Code`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Received.
    Rcvd,
    /// Accepted technical validation.
    Actc,
    /// Accepted, settlement in process.
    Acsp,
    /// Accepted, settlement completed.
    Acsc,
    /// Some transactions rejected (a group status).
    Part,
    /// Rejected.
    Rjct,
}

impl Status {
    /// The code.
    pub(crate) fn code(self) -> &'static str {
        match self {
            Status::Rcvd => "RCVD",
            Status::Actc => "ACTC",
            Status::Acsp => "ACSP",
            Status::Acsc => "ACSC",
            Status::Part => "PART",
            Status::Rjct => "RJCT",
        }
    }
}

/// A reason: an ISO external status reason code and its additional information.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reason {
    /// `FF01`, `AM10`, `AC01`, …
    pub(crate) code: String,
    /// `AddtlInf` text (split into 105-character pieces when written).
    pub(crate) info: Option<String>,
}

/// One credit transfer of a file.
#[derive(Debug, Clone)]
pub(crate) struct Transaction {
    /// Its `PmtInf` (index into [`Read::payment_infos`]).
    pub(crate) payment_info: usize,
    pub(crate) instruction_id: Option<String>,
    pub(crate) end_to_end_id: String,
    /// `InstdAmt` as written.
    pub(crate) amount_text: String,
    pub(crate) currency: String,
    pub(crate) creditor_iban: Option<String>,
    /// When and why it is rejected, if it is.
    pub(crate) rejection: Option<(PaymentStage, Reason)>,
}

/// One `PmtInf` block.
#[derive(Debug, Clone)]
pub(crate) struct PaymentInfo {
    pub(crate) id: String,
    /// The execution date the bank uses (moved past cut-off, weekends and holidays).
    pub(crate) execution: Date,
    /// A reason that rejects the whole block, if any.
    pub(crate) rejection: Option<Reason>,
}

/// What a schema-valid file holds.
#[derive(Debug, Clone)]
pub(crate) struct Read {
    pub(crate) msg_id: String,
    pub(crate) nb_of_txs: String,
    pub(crate) ctrl_sum: Option<String>,
    pub(crate) payment_infos: Vec<PaymentInfo>,
    pub(crate) transactions: Vec<Transaction>,
    /// A reason that rejects the whole file at the `ACTC` step (control sum, count, duplicate).
    pub(crate) rejection: Option<Reason>,
}

/// What the intake made of a file.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    /// Refused by the schema layer (or unreadable): rejected at receipt.
    Refused {
        /// Its `MsgId` when one could be read.
        msg_id: Option<String>,
    },
    /// Schema-valid.
    Read(Read),
}

/// One transaction's status in one report.
#[derive(Debug, Clone)]
pub(crate) struct TxStatus {
    /// Index into [`Read::transactions`].
    pub(crate) transaction: usize,
    pub(crate) status: Status,
    pub(crate) reason: Option<Reason>,
}

/// One pain.002 report of a file, as planned at receipt.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    /// When it is issued (virtual clock).
    pub(crate) at: OffsetDateTime,
    pub(crate) group_status: Status,
    pub(crate) group_reason: Option<Reason>,
    /// `PmtInf` blocks rejected whole in this report, with their reason.
    pub(crate) payment_infos: Vec<(usize, Reason)>,
    pub(crate) transactions: Vec<TxStatus>,
}

/// A payment file the bank received.
#[derive(Debug, Clone)]
pub(crate) struct PaymentFile {
    /// The bank's id (`PMT-N`, N from 1 in order of receipt).
    pub(crate) id: String,
    /// The name it was uploaded under.
    pub(crate) name: String,
    pub(crate) size: usize,
    pub(crate) received_at: OffsetDateTime,
    /// The version its reports answer (`.03` for a file of no known version).
    pub(crate) version: Pain001Version,
    pub(crate) content: Content,
    /// Its reports in order of issue.
    pub(crate) reports: Vec<Report>,
}

impl PaymentFile {
    /// The `MsgId`, when one could be read.
    pub(crate) fn msg_id(&self) -> Option<&str> {
        match &self.content {
            Content::Refused { msg_id } => msg_id.as_deref(),
            Content::Read(read) => Some(&read.msg_id),
        }
    }

    /// The file as the `/payments` listing and the state show it, as of `now`; `size` only in
    /// the state.
    pub(crate) fn summary(&self, now: OffsetDateTime, with_size: bool) -> serde_json::Value {
        let mut summary = serde_json::Map::new();
        summary.insert("id".into(), self.id.clone().into());
        summary.insert("name".into(), self.name.clone().into());
        if with_size {
            summary.insert("size".into(), self.size.into());
        }
        summary.insert("msg_id".into(), self.msg_id().into());
        let received_at = self
            .received_at
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        summary.insert("received_at".into(), received_at.into());
        summary.insert("group_status".into(), self.group_status(now).code().into());
        summary.into()
    }

    /// How many transactions it holds.
    pub(crate) fn transaction_count(&self) -> usize {
        match &self.content {
            Content::Read(read) => read.transactions.len(),
            Content::Refused { .. } => 0,
        }
    }

    /// The reports issued by `now`.
    pub(crate) fn issued(&self, now: OffsetDateTime) -> &[Report] {
        let count = self.reports.iter().take_while(|r| r.at <= now).count();
        &self.reports[..count]
    }

    /// The group status as of `now` (that of the last report issued).
    pub(crate) fn group_status(&self, now: OffsetDateTime) -> Status {
        self.issued(now)
            .last()
            .map_or(Status::Rcvd, |report| report.group_status)
    }

    /// Whether the file was rejected as a whole (so its `MsgId` may be sent again).
    fn rejected_whole(&self) -> bool {
        self.reports
            .last()
            .is_some_and(|r| r.group_status == Status::Rjct && r.group_reason.is_some())
    }

    /// Transaction `index`'s status and reason as of `now`: that of the last report naming it,
    /// else the group's.
    pub(crate) fn transaction_status(
        &self,
        index: usize,
        now: OffsetDateTime,
    ) -> (Status, Option<&Reason>) {
        let issued = self.issued(now);
        for report in issued.iter().rev() {
            if let Some(tx) = report.transactions.iter().find(|t| t.transaction == index) {
                return (tx.status, tx.reason.as_ref());
            }
        }
        match issued.last() {
            Some(report) if report.group_status == Status::Rjct => {
                (Status::Rjct, report.group_reason.as_ref())
            }
            Some(report) if report.group_status == Status::Actc => (Status::Actc, None),
            _ => (Status::Rcvd, None),
        }
    }
}

/// The first element child of `element` named `name` (any namespace: the schema layer checked
/// it).
fn child<'d>(element: Element<'d>, name: &str) -> Option<Element<'d>> {
    element
        .children()
        .into_iter()
        .filter_map(|c| c.element())
        .find(|e| e.name().local_part() == name)
}

fn children<'d>(element: Element<'d>, name: &str) -> Vec<Element<'d>> {
    element
        .children()
        .into_iter()
        .filter_map(|c| c.element())
        .filter(|e| e.name().local_part() == name)
        .collect()
}

/// The text of `element`, white space around it removed.
fn text(element: Element<'_>) -> String {
    element
        .children()
        .into_iter()
        .filter_map(|c| c.text().map(|t| t.text().to_owned()))
        .collect::<String>()
        .trim()
        .to_owned()
}

fn path_text(element: Element<'_>, path: &[&str]) -> Option<String> {
    let mut at = element;
    for name in path {
        at = child(at, name)?;
    }
    Some(text(at))
}

/// A decimal the schema layer accepted (`xs:decimal`, at most 18 digits: `+5`, `.5` and `5.`
/// included) as a [`Decimal`].
fn decimal(text: &str) -> Option<Decimal> {
    let unsigned = text.strip_prefix('+').unwrap_or(text);
    let (sign, digits) = match unsigned.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", unsigned),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    let whole = if whole.is_empty() { "0" } else { whole };
    let fraction = if fraction.is_empty() { "0" } else { fraction };
    format!("{sign}{whole}.{fraction}").parse::<Decimal>().ok()
}

/// The sum of `amounts`, or `None` when one is not a decimal or the sum leaves [`Decimal`]'s
/// range (a file of enormous amounts is a mismatch, not a panic).
fn checked_sum<'a>(amounts: impl Iterator<Item = &'a str>) -> Option<Decimal> {
    amounts
        .map(decimal)
        .try_fold(Decimal::ZERO, |sum, amount| sum.checked_add(amount?))
}

/// The bank's local calendar.
struct Calendar<'p> {
    profile: &'p PaymentProfile,
    offset: UtcOffset,
}

impl Calendar<'_> {
    fn business_day(&self, day: Date) -> bool {
        !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
            && !self.profile.holidays.iter().any(|h| h.0 == day)
    }

    /// `day` if it is a business day, else the next one (bounded: a year of holidays at most).
    fn on_or_after(&self, day: Date) -> Date {
        let mut at = day;
        for _ in 0..400 {
            if self.business_day(at) {
                return at;
            }
            match at.next_day() {
                Some(next) => at = next,
                None => return at,
            }
        }
        at
    }

    fn at(&self, day: Date, minutes: u16) -> OffsetDateTime {
        let time = Time::from_hms(
            u8::try_from(minutes / 60).unwrap_or(0),
            u8::try_from(minutes % 60).unwrap_or(0),
            0,
        )
        .unwrap_or(Time::MIDNIGHT);
        day.with_time(time).assume_offset(self.offset)
    }
}

/// Receive `body` as a pain.001 named `name` at `now`, given the files received before: the file
/// with its reports planned.
pub(crate) fn receive(
    profile: &PaymentProfile,
    earlier: &[PaymentFile],
    name: &str,
    body: &[u8],
    now: OffsetDateTime,
) -> PaymentFile {
    let id = format!("PMT-{}", earlier.len() + 1);
    let offset =
        UtcOffset::from_whole_seconds(profile.utc_offset_seconds).unwrap_or(UtcOffset::UTC);
    let now = now.replace_nanosecond(0).unwrap_or(now);
    let received_at = now.checked_to_offset(offset).unwrap_or(now);
    let refused = |msg_id: Option<String>, info: String, version| {
        // A validator message quotes the value it refuses, which may be long: the report carries
        // at most ten `AddtlInf` of 105 characters, and the bank keeps no more than that.
        let reason = Reason {
            code: profile.schema_reason.clone(),
            info: Some(info.chars().take(MAX_INFO).collect()),
        };
        PaymentFile {
            id: id.clone(),
            name: name.to_owned(),
            size: body.len(),
            received_at,
            version,
            reports: vec![Report {
                at: received_at,
                group_status: Status::Rjct,
                group_reason: Some(reason),
                payment_infos: Vec::new(),
                transactions: Vec::new(),
            }],
            content: Content::Refused { msg_id },
        }
    };
    let text = match prescan(body) {
        Ok(text) => text,
        Err(unreadable) => return refused(None, unreadable.message(), Pain001Version::V03),
    };
    let package = match sxd_document::parser::parse(text) {
        Ok(package) => package,
        Err(error) => {
            return refused(
                None,
                super::xsd::Unreadable::NotWellFormed(format!("{error:?}")).message(),
                Pain001Version::V03,
            );
        }
    };
    let document = package.as_document();
    let Some(root) = document
        .root()
        .children()
        .into_iter()
        .find_map(|c| c.element())
    else {
        return refused(
            None,
            "the file holds no element".to_owned(),
            Pain001Version::V03,
        );
    };
    let version = root
        .name()
        .namespace_uri()
        .and_then(Pain001Version::of_namespace);
    let msg_id = child(root, "CstmrCdtTrfInitn")
        .and_then(|i| path_text(i, &["GrpHdr", "MsgId"]))
        .filter(|id| !id.is_empty() && id.chars().count() <= 35);
    let Some(version) = version else {
        let why = format!(
            "cvc-elt.1.a: Cannot find the declaration of element '{}'.",
            root.name().local_part()
        );
        return refused(msg_id, why, Pain001Version::V03);
    };
    if let Err(invalid) = Schema::of(version).validate(root) {
        return refused(msg_id, invalid.0, version);
    }
    let Some(initiation) = child(root, "CstmrCdtTrfInitn") else {
        return refused(msg_id, "no CstmrCdtTrfInitn".to_owned(), version);
    };
    let calendar = Calendar { profile, offset };
    let read = read(&calendar, earlier, initiation, received_at);
    let reports = plan(profile, &calendar, &read, received_at);
    PaymentFile {
        id,
        name: name.to_owned(),
        size: body.len(),
        received_at,
        version,
        content: Content::Read(read),
        reports,
    }
}

/// A schema-valid `CstmrCdtTrfInitn` read, and the profile's checks made.
fn read(
    calendar: &Calendar<'_>,
    earlier: &[PaymentFile],
    initiation: Element<'_>,
    received_at: OffsetDateTime,
) -> Read {
    let profile = calendar.profile;
    let header = child(initiation, "GrpHdr");
    let field = |path: &[&str]| header.and_then(|h| path_text(h, path));
    let msg_id = field(&["MsgId"]).unwrap_or_default();
    let nb_of_txs = field(&["NbOfTxs"]).unwrap_or_default();
    let ctrl_sum = field(&["CtrlSum"]);
    let today = received_at.date();
    let local_minutes = u16::from(received_at.hour()) * 60 + u16::from(received_at.minute());
    let mut payment_infos = Vec::new();
    let mut transactions = Vec::new();
    for block in children(initiation, "PmtInf") {
        let index = payment_infos.len();
        let id = path_text(block, &["PmtInfId"]).unwrap_or_default();
        // .03: `ReqdExctnDt` is a date; .09: a choice of `Dt` and `DtTm`.
        let requested = child(block, "ReqdExctnDt").and_then(|d| {
            let raw = match child(d, "Dt").or_else(|| child(d, "DtTm")) {
                Some(inner) => text(inner),
                None => text(d),
            };
            Date::parse(
                raw.get(..10)?,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
            .ok()
        });
        let mut rejection = None;
        let mut execution = requested.unwrap_or(today);
        if execution < today {
            rejection = Some(Reason {
                code: "DT01".to_owned(),
                info: Some(format!(
                    "requested execution date {execution} is in the past (today is {today})"
                )),
            });
        } else if execution == today
            && profile
                .cut_off_minutes
                .is_some_and(|cut_off| local_minutes >= cut_off)
        {
            match profile.after_cut_off {
                AfterCutOff::Reject => {
                    rejection = Some(Reason {
                        code: "TM01".to_owned(),
                        info: Some("received after the cut-off time".to_owned()),
                    });
                }
                AfterCutOff::NextBusinessDay => {
                    execution = execution.next_day().unwrap_or(execution);
                }
            }
        }
        execution = calendar.on_or_after(execution);
        let txs = children(block, "CdtTrfTxInf");
        let declared_count = path_text(block, &["NbOfTxs"]);
        let declared_sum = path_text(block, &["CtrlSum"]);
        let first = transactions.len();
        for tx in &txs {
            let amount = child(*tx, "Amt").and_then(|a| child(a, "InstdAmt"));
            let amount_text = amount.map(text).unwrap_or_default();
            let currency = amount
                .and_then(|a| a.attribute_value("Ccy").map(str::to_owned))
                .unwrap_or_default();
            let end_to_end_id = path_text(*tx, &["PmtId", "EndToEndId"]).unwrap_or_default();
            let creditor_iban = path_text(*tx, &["CdtrAcct", "Id", "IBAN"]);
            let decimals = decimal(&amount_text).map_or(0, |d| d.normalize().scale());
            let mut tx_rejection = None;
            if decimals > minor_units(&currency) {
                tx_rejection = Some((
                    PaymentStage::Accepted,
                    Reason {
                        code: "CH20".to_owned(),
                        info: Some(format!(
                            "{currency} takes {} decimals, the amount {amount_text} has {decimals}",
                            minor_units(&currency)
                        )),
                    },
                ));
            }
            if tx_rejection.is_none()
                && let Some(outcome) = profile.outcomes.iter().find(|o| {
                    o.end_to_end_id.as_deref() == Some(end_to_end_id.as_str())
                        || (o.creditor_iban.is_some() && o.creditor_iban == creditor_iban)
                })
            {
                tx_rejection = Some((
                    outcome.stage,
                    Reason {
                        code: outcome.reason.clone(),
                        info: outcome.text.clone(),
                    },
                ));
            }
            transactions.push(Transaction {
                payment_info: index,
                instruction_id: path_text(*tx, &["PmtId", "InstrId"]),
                end_to_end_id,
                amount_text,
                currency,
                creditor_iban,
                rejection: tx_rejection,
            });
        }
        let sum = checked_sum(transactions[first..].iter().map(|t| t.amount_text.as_str()));
        if rejection.is_none() {
            rejection = count_and_sum(
                declared_count.as_deref(),
                declared_sum.as_deref(),
                txs.len(),
                sum,
                "PmtInf",
            );
        }
        payment_infos.push(PaymentInfo {
            id,
            execution,
            rejection,
        });
    }
    let total = checked_sum(transactions.iter().map(|t| t.amount_text.as_str()));
    let duplicate = earlier
        .iter()
        .find(|file| file.msg_id() == Some(msg_id.as_str()) && !file.rejected_whole());
    let rejection = match duplicate {
        Some(original) => Some(Reason {
            code: profile.duplicate_reason.clone(),
            info: Some(format!(
                "duplicate MsgId {msg_id}: already received as {} at {}",
                original.id,
                super::pain002::date_time(original.received_at)
            )),
        }),
        None => count_and_sum(
            Some(&nb_of_txs),
            ctrl_sum.as_deref(),
            transactions.len(),
            total,
            "GrpHdr",
        ),
    };
    Read {
        msg_id,
        nb_of_txs,
        ctrl_sum,
        payment_infos,
        transactions,
        rejection,
    }
}

/// `AM10` when the declared `CtrlSum` is not the sum of the amounts (catalog B-15), else `AM18`
/// when the declared `NbOfTxs` is not the count.
fn count_and_sum(
    declared_count: Option<&str>,
    declared_sum: Option<&str>,
    count: usize,
    sum: Option<Decimal>,
    level: &str,
) -> Option<Reason> {
    if let Some(declared) = declared_sum
        && (sum.is_none() || decimal(declared) != sum)
    {
        let sum = sum.map_or_else(|| "out of range".to_owned(), |s| s.to_string());
        return Some(Reason {
            code: "AM10".to_owned(),
            info: Some(format!(
                "{level}/CtrlSum {declared} does not match the sum of the amounts {sum}"
            )),
        });
    }
    if let Some(declared) = declared_count
        && declared.parse::<usize>().ok() != Some(count)
    {
        return Some(Reason {
            code: "AM18".to_owned(),
            info: Some(format!(
                "{level}/NbOfTxs {declared} does not match the {count} transactions"
            )),
        });
    }
    None
}

/// The reports of a schema-valid file, in order of issue.
fn plan(
    profile: &PaymentProfile,
    calendar: &Calendar<'_>,
    read: &Read,
    received_at: OffsetDateTime,
) -> Vec<Report> {
    let timeline = &profile.timeline;
    let accepted_at = received_at + Duration::seconds(timeline.accepted_after_seconds as i64);
    let pending_at = received_at + Duration::seconds(timeline.pending_after_seconds as i64);
    let mut reports = vec![Report {
        at: received_at,
        group_status: Status::Rcvd,
        group_reason: None,
        payment_infos: Vec::new(),
        transactions: Vec::new(),
    }];
    if let Some(reason) = &read.rejection {
        reports.push(Report {
            at: accepted_at,
            group_status: Status::Rjct,
            group_reason: Some(reason.clone()),
            payment_infos: Vec::new(),
            transactions: Vec::new(),
        });
        return reports;
    }
    let total = read.transactions.len();
    let mut rejected = vec![false; total];
    // The stage's rejections: a whole `PmtInf` at `accepted`, else the transaction's own.
    let rejection_at = |index: usize, stage: PaymentStage| -> Option<Reason> {
        let tx = &read.transactions[index];
        if stage == PaymentStage::Accepted
            && let Some(reason) = &read.payment_infos[tx.payment_info].rejection
        {
            return Some(reason.clone());
        }
        match &tx.rejection {
            Some((at, reason)) if *at == stage => Some(reason.clone()),
            _ => None,
        }
    };
    let group = |rejected: &[bool], otherwise: Status| {
        if !rejected.is_empty() && rejected.iter().all(|r| *r) {
            Status::Rjct
        } else if rejected.iter().any(|r| *r) {
            Status::Part
        } else {
            otherwise
        }
    };
    // ACTC: the rejections of technical validation.
    let mut accepted = Report {
        at: accepted_at,
        group_status: Status::Actc,
        group_reason: None,
        payment_infos: read
            .payment_infos
            .iter()
            .enumerate()
            .filter_map(|(i, p)| p.rejection.clone().map(|r| (i, r)))
            .collect(),
        transactions: Vec::new(),
    };
    for (index, rejected) in rejected.iter_mut().enumerate() {
        if let Some(reason) = rejection_at(index, PaymentStage::Accepted) {
            *rejected = true;
            accepted.transactions.push(TxStatus {
                transaction: index,
                status: Status::Rjct,
                reason: Some(reason),
            });
        }
    }
    accepted.group_status = group(&rejected, Status::Actc);
    let done = accepted.group_status == Status::Rjct;
    reports.push(accepted);
    if done {
        return reports;
    }
    // ACSP: every live transaction, accepted for settlement or rejected.
    let mut pending = Report {
        at: pending_at,
        group_status: Status::Acsp,
        group_reason: None,
        payment_infos: Vec::new(),
        transactions: Vec::new(),
    };
    for (index, rejected) in rejected.iter_mut().enumerate() {
        if *rejected {
            continue;
        }
        let reason = rejection_at(index, PaymentStage::Pending);
        *rejected = reason.is_some();
        pending.transactions.push(TxStatus {
            transaction: index,
            status: if reason.is_some() {
                Status::Rjct
            } else {
                Status::Acsp
            },
            reason,
        });
    }
    pending.group_status = group(&rejected, Status::Acsp);
    let done = pending.group_status == Status::Rjct;
    reports.push(pending);
    if done {
        return reports;
    }
    // ACSC: one report per execution instant, never before the ACSP report.
    let settle_at = |index: usize| {
        let info = &read.payment_infos[read.transactions[index].payment_info];
        calendar
            .at(info.execution, timeline.settled_at_minutes)
            .max(pending_at)
    };
    let mut instants: Vec<OffsetDateTime> = (0..total)
        .filter(|i| !rejected[*i])
        .map(settle_at)
        .collect();
    instants.sort();
    instants.dedup();
    let mut settled = vec![false; total];
    for instant in instants {
        let mut report = Report {
            at: instant,
            group_status: Status::Acsc,
            group_reason: None,
            payment_infos: Vec::new(),
            transactions: Vec::new(),
        };
        for index in 0..total {
            if rejected[index] || settled[index] || settle_at(index) != instant {
                continue;
            }
            let reason = rejection_at(index, PaymentStage::Settled);
            rejected[index] = reason.is_some();
            settled[index] = reason.is_none();
            report.transactions.push(TxStatus {
                transaction: index,
                status: if reason.is_some() {
                    Status::Rjct
                } else {
                    Status::Acsc
                },
                reason,
            });
        }
        let all_done = (0..total).all(|i| rejected[i] || settled[i]);
        report.group_status = group(
            &rejected,
            if all_done { Status::Acsc } else { Status::Acsp },
        );
        reports.push(report);
    }
    reports
}

#[cfg(test)]
mod tests {
    //! The profile's checks and the planned timeline, on small pain.001 files.

    use super::*;
    use crate::scenario::model::{HolidayDate, PaymentOutcome};
    use time::macros::datetime;

    pub(crate) fn pain001(
        msg_id: &str,
        ctrl_sum: &str,
        date: &str,
        txs: &[(&str, &str)],
    ) -> String {
        let body: String = txs
            .iter()
            .map(|(e2e, amount)| {
                format!(
                    "<CdtTrfTxInf><PmtId><EndToEndId>{e2e}</EndToEndId></PmtId><Amt><InstdAmt Ccy=\"EUR\">{amount}</InstdAmt></Amt><Cdtr><Nm>Lumen</Nm></Cdtr><CdtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></CdtrAcct></CdtTrfTxInf>"
                )
            })
            .collect();
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn><GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-02T09:00:00</CreDtTm><NbOfTxs>{n}</NbOfTxs><CtrlSum>{ctrl_sum}</CtrlSum><InitgPty><Nm>Acme</Nm></InitgPty></GrpHdr><PmtInf><PmtInfId>P1</PmtInfId><PmtMtd>TRF</PmtMtd><ReqdExctnDt>{date}</ReqdExctnDt><Dbtr><Nm>Acme</Nm></Dbtr><DbtrAcct><Id><IBAN>DE89370400440532013000</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BIC>DEUTDEFF</BIC></FinInstnId></DbtrAgt>{body}</PmtInf></CstmrCdtTrfInitn></Document>"#,
            n = txs.len()
        )
    }

    const MONDAY: OffsetDateTime = datetime!(2026-11-02 09:00 UTC);

    fn statuses(file: &PaymentFile) -> Vec<(&'static str, i64)> {
        file.reports
            .iter()
            .map(|r| {
                (
                    r.group_status.code(),
                    (r.at - file.received_at).whole_seconds(),
                )
            })
            .collect()
    }

    #[test]
    fn a_good_file_runs_rcvd_actc_acsp_acsc() {
        let profile = PaymentProfile::default();
        let xml = pain001(
            "M1",
            "30.00",
            "2026-11-03",
            &[("E1", "10.00"), ("E2", "20")],
        );
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), MONDAY);
        assert_eq!(
            statuses(&file),
            [
                ("RCVD", 0),
                ("ACTC", 60),
                ("ACSP", 600),
                ("ACSC", 21 * 3600)
            ]
        );
        assert_eq!(
            file.group_status(MONDAY + Duration::seconds(59)).code(),
            "RCVD"
        );
        assert_eq!(
            file.transaction_status(1, MONDAY + Duration::minutes(5)).0,
            Status::Actc
        );
        assert_eq!(
            file.transaction_status(1, MONDAY + Duration::days(1)).0,
            Status::Acsc
        );
    }

    #[test]
    fn a_declared_rejection_makes_the_group_part() {
        let profile = PaymentProfile {
            outcomes: vec![PaymentOutcome {
                end_to_end_id: Some("E2".into()),
                creditor_iban: None,
                reason: "AC01".into(),
                text: None,
                stage: PaymentStage::Pending,
            }],
            ..PaymentProfile::default()
        };
        let xml = pain001(
            "M1",
            "30.00",
            "2026-11-03",
            &[("E1", "10.00"), ("E2", "20")],
        );
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), MONDAY);
        assert_eq!(
            statuses(&file),
            [
                ("RCVD", 0),
                ("ACTC", 60),
                ("PART", 600),
                ("PART", 21 * 3600)
            ]
        );
        let (status, reason) = file.transaction_status(1, MONDAY + Duration::days(2));
        assert_eq!(
            (status, reason.map(|r| r.code.as_str())),
            (Status::Rjct, Some("AC01"))
        );
    }

    #[test]
    fn a_comma_decimal_is_rejected_at_receipt_with_the_validator_message() {
        let profile = PaymentProfile::default();
        let xml = pain001("M1", "4847,37", "2026-11-03", &[("E1", "4847,37")]);
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), MONDAY);
        assert_eq!(statuses(&file), [("RJCT", 0)]);
        let reason = file.reports[0].group_reason.clone().unwrap();
        assert_eq!(reason.code, "FF01");
        assert_eq!(
            reason.info.as_deref(),
            Some("cvc-datatype-valid.1.2.1: '4847,37' is not a valid value for 'decimal'.")
        );
        assert_eq!(file.msg_id(), Some("M1"));
    }

    #[test]
    fn control_sum_and_duplicate_reject_the_group() {
        let profile = PaymentProfile::default();
        let xml = pain001(
            "M1",
            "31.00",
            "2026-11-03",
            &[("E1", "10.00"), ("E2", "20")],
        );
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), MONDAY);
        assert_eq!(statuses(&file), [("RCVD", 0), ("RJCT", 60)]);
        assert_eq!(file.reports[1].group_reason.as_ref().unwrap().code, "AM10");
        // A duplicate of a rejected file is taken; of an accepted one refused.
        let good = pain001(
            "M1",
            "30.00",
            "2026-11-03",
            &[("E1", "10.00"), ("E2", "20")],
        );
        let first = receive(&profile, &[file], "b.xml", good.as_bytes(), MONDAY);
        assert_eq!(statuses(&first)[1], ("ACTC", 60));
        let again = receive(
            &profile,
            std::slice::from_ref(&first),
            "c.xml",
            good.as_bytes(),
            MONDAY,
        );
        assert_eq!(statuses(&again), [("RCVD", 0), ("RJCT", 60)]);
        assert_eq!(again.reports[1].group_reason.as_ref().unwrap().code, "DU01");
    }

    #[test]
    fn dates_follow_cut_off_weekends_and_holidays() {
        let mut profile = PaymentProfile {
            utc_offset_seconds: 3600,
            cut_off_minutes: Some(15 * 60),
            holidays: vec![HolidayDate(time::macros::date!(2026 - 11 - 03))],
            ..PaymentProfile::default()
        };
        // 15:30 Berlin on Monday for Monday: past the cut-off → Wednesday (Tuesday a holiday).
        let late = datetime!(2026-11-02 14:30 UTC);
        let xml = pain001("M1", "10", "2026-11-02", &[("E1", "10")]);
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), late);
        let Content::Read(read) = &file.content else {
            panic!("read")
        };
        assert_eq!(
            read.payment_infos[0].execution,
            time::macros::date!(2026 - 11 - 04)
        );
        assert_eq!(
            file.reports.last().unwrap().at,
            datetime!(2026-11-04 06:00 +1)
        );
        profile.after_cut_off = AfterCutOff::Reject;
        let file = receive(&profile, &[], "a.xml", xml.as_bytes(), late);
        assert_eq!(statuses(&file), [("RCVD", 0), ("RJCT", 60)]);
        assert_eq!(file.reports[1].payment_infos[0].1.code, "TM01");
        let past = pain001("M1", "10", "2026-10-30", &[("E1", "10")]);
        let file = receive(&profile, &[], "a.xml", past.as_bytes(), MONDAY);
        assert_eq!(
            file.reports[1].transactions[0]
                .reason
                .as_ref()
                .unwrap()
                .code,
            "DT01"
        );
    }

    #[test]
    fn decimals_read_every_xsd_form_and_sums_never_overflow() {
        let d = |t: &str| decimal(t).map(|d| d.to_string());
        assert_eq!(d("5."), Some("5.0".into()));
        assert_eq!(d(".5"), Some("0.5".into()));
        assert_eq!(d("+5"), Some("5.0".into()));
        assert_eq!(d("-0.10"), Some("-0.10".into()));
        assert_eq!(d("4847,37"), None);
        let max = Decimal::MAX.to_string();
        assert_eq!(checked_sum([max.as_str(), "1"].into_iter()), None);
        let huge = "9999999999999.99999";
        assert_eq!(
            checked_sum(["1.5", "2."].into_iter()),
            Some(Decimal::new(35, 1))
        );
        // The schema's amounts (18 digits) in the most transactions a file holds stay in range.
        let txs: Vec<(String, &str)> = (0..200).map(|i| (format!("E{i}"), huge)).collect();
        let txs: Vec<(&str, &str)> = txs.iter().map(|(e, a)| (e.as_str(), *a)).collect();
        let xml = pain001("M1", "1", "2026-11-03", &txs);
        let file = receive(
            &PaymentProfile::default(),
            &[],
            "a.xml",
            xml.as_bytes(),
            MONDAY,
        );
        assert_eq!(statuses(&file), [("RCVD", 0), ("RJCT", 60)]);
        let reason = file.reports[1].group_reason.clone().unwrap();
        assert_eq!(reason.code, "AM10");
        assert!(
            reason
                .info
                .unwrap()
                .ends_with("the sum of the amounts 1999999999999999.99800"),
            "the exact sum"
        );
    }

    #[test]
    fn unreadable_bodies_are_rejected_not_panicked_on() {
        let profile = PaymentProfile::default();
        for body in [
            &b"\xff\xfe"[..],
            b"<a",
            b"",
            b"<!DOCTYPE a><a/>",
            b"<Document/>",
        ] {
            let file = receive(&profile, &[], "x", body, MONDAY);
            assert_eq!(statuses(&file), [("RJCT", 0)], "{body:?}");
        }
    }
}
