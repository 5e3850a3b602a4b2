//! ISO 20022 pain.002 customer payment status reports, as a bank drops them in its SFTP inbox:
//! [`parse`] reads one report (the original `MsgId`, the group status and reason, each
//! transaction's `OrgnlEndToEndId`, `TxSts` and reason), [`status`] folds the reports of one
//! payment file, in the order the bank issued them, into the status the payments read over
//! HTTP too: `{"group_status", "reason", "transactions": [{"end_to_end_id", "status",
//! "reason"}]}` (a later report's word on a transaction replaces an earlier one's).
//!
//! Reports are parsed defensively (`crate::saml::parse_xml`: size, depth and attribute bounds,
//! no DOCTYPE), any pain.002 version (`pain.002.001.NN`), at most `MAX_TRANSACTIONS`
//! transactions each.

use serde_json::{Value, json};

use crate::statements::{at_path, kids, text_at};

/// The namespace of pain.002 messages, before the version's two digits.
const PAIN002: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.";
/// The most transactions one report may name.
const MAX_TRANSACTIONS: usize = 10_000;

/// One transaction's status in a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionStatus {
    pub end_to_end_id: String,
    pub status: String,
    pub reason: Option<String>,
}

/// One status report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    /// The `MsgId` of the payment file it reports on.
    pub original_msg_id: String,
    /// `GrpSts`, when the report gives one.
    pub group_status: Option<String>,
    /// The group's reason code.
    pub group_reason: Option<String>,
    pub transactions: Vec<TransactionStatus>,
}

/// The reason code of a `StsRsnInf` below `parent`.
fn reason(parent: sxd_document::dom::Element<'_>) -> Option<String> {
    kids(parent, "StsRsnInf")
        .into_iter()
        .find_map(|info| text_at(info, &["Rsn", "Cd"]).or_else(|| text_at(info, &["Rsn", "Prtry"])))
}

/// The report `bytes` hold, or why they are not one.
pub fn parse(bytes: &[u8]) -> Result<Report, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "the status report is not UTF-8")?;
    let package = crate::saml::parse_xml(text.trim_start_matches('\u{feff}'), "the status report")?;
    let document = package.as_document();
    let root = crate::saml::document_element(&document).ok_or("the status report is empty")?;
    let namespace = root.name().namespace_uri().unwrap_or_default().to_owned();
    if root.name().local_part() != "Document" || !namespace.starts_with(PAIN002) {
        return Err(format!("not a pain.002 document (namespace `{namespace}`)"));
    }
    let message = at_path(root, &["CstmrPmtStsRpt"]).ok_or("no `CstmrPmtStsRpt`")?;
    let group = at_path(message, &["OrgnlGrpInfAndSts"]).ok_or("no `OrgnlGrpInfAndSts`")?;
    let original_msg_id = text_at(group, &["OrgnlMsgId"]).ok_or("no `OrgnlMsgId`")?;
    let mut transactions = Vec::new();
    for info in kids(message, "OrgnlPmtInfAndSts") {
        for tx in kids(info, "TxInfAndSts") {
            if transactions.len() >= MAX_TRANSACTIONS {
                return Err(format!("more than {MAX_TRANSACTIONS} transactions"));
            }
            let end_to_end_id = text_at(tx, &["OrgnlEndToEndId"])
                .ok_or("a transaction without `OrgnlEndToEndId`")?;
            let status = text_at(tx, &["TxSts"]).ok_or("a transaction without `TxSts`")?;
            transactions.push(TransactionStatus {
                end_to_end_id,
                status,
                reason: reason(tx),
            });
        }
    }
    Ok(Report {
        original_msg_id,
        group_status: text_at(group, &["GrpSts"]),
        group_reason: reason(group),
        transactions,
    })
}

/// `reports` of one file, in issue order, folded into the status JSON (see the module).
pub fn status(reports: &[Report]) -> Value {
    let mut group_status = None;
    let mut group_reason = None;
    let mut transactions: Vec<TransactionStatus> = Vec::new();
    for report in reports {
        if let Some(status) = &report.group_status {
            group_status = Some(status.clone());
            group_reason = report.group_reason.clone();
        }
        for tx in &report.transactions {
            match transactions
                .iter_mut()
                .find(|known| known.end_to_end_id == tx.end_to_end_id)
            {
                Some(known) => *known = tx.clone(),
                None => transactions.push(tx.clone()),
            }
        }
    }
    let transactions: Vec<Value> = transactions
        .into_iter()
        .map(|tx| json!({ "end_to_end_id": tx.end_to_end_id, "status": tx.status, "reason": tx.reason }))
        .collect();
    json!({
        "group_status": group_status,
        "reason": group_reason,
        "transactions": transactions,
    })
}

/// The issue number of a report named `…-pain.002-N.xml` (the bank mock's names), for ordering;
/// `None` for another name.
pub fn report_number(name: &str) -> Option<u32> {
    let stem = name.strip_suffix(".xml")?;
    let (_, number) = stem.rsplit_once("-pain.002-")?;
    number.parse().ok()
}

#[cfg(test)]
mod tests {
    //! Reports as the bank mock writes them (`src/mock/providers/bank/pain002.rs`), folded in
    //! order; bad documents refused with the reason.

    use super::*;

    fn report(group: &str, reason: &str, txs: &str) -> String {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.10\">\n  <CstmrPmtStsRpt>\n    <GrpHdr>\n      <MsgId>PMT-1-1</MsgId>\n      <CreDtTm>2026-11-02T10:00:00+01:00</CreDtTm>\n    </GrpHdr>\n    <OrgnlGrpInfAndSts>\n      <OrgnlMsgId>LS-RUN-1-1</OrgnlMsgId>\n      <OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>\n      <GrpSts>{group}</GrpSts>\n{reason}    </OrgnlGrpInfAndSts>\n    <OrgnlPmtInfAndSts>\n      <OrgnlPmtInfId>P1</OrgnlPmtInfId>\n{txs}    </OrgnlPmtInfAndSts>\n  </CstmrPmtStsRpt>\n</Document>\n"
        )
    }

    fn tx(e2e: &str, status: &str, reason: Option<&str>) -> String {
        let reason = reason
            .map(|code| format!("        <StsRsnInf>\n          <Rsn>\n            <Cd>{code}</Cd>\n          </Rsn>\n          <AddtlInf>why</AddtlInf>\n        </StsRsnInf>\n"))
            .unwrap_or_default();
        format!(
            "      <TxInfAndSts>\n        <OrgnlEndToEndId>{e2e}</OrgnlEndToEndId>\n        <TxSts>{status}</TxSts>\n{reason}      </TxInfAndSts>\n"
        )
    }

    #[test]
    fn reports_fold_into_the_latest_status_of_each_transaction() {
        let first = parse(report("ACTC", "", "").as_bytes()).expect("report");
        assert_eq!(first.original_msg_id, "LS-RUN-1-1");
        assert_eq!(first.group_status.as_deref(), Some("ACTC"));
        assert!(first.transactions.is_empty());
        let second = parse(
            report(
                "PART",
                "",
                &(tx("BILL-1", "ACSP", None) + &tx("BILL-2", "RJCT", Some("AC01"))),
            )
            .as_bytes(),
        )
        .expect("report");
        let third =
            parse(report("ACSC", "", &tx("BILL-1", "ACSC", None)).as_bytes()).expect("report");
        assert_eq!(
            status(std::slice::from_ref(&first)),
            json!({ "group_status": "ACTC", "reason": null, "transactions": [] })
        );
        assert_eq!(
            status(&[first, second, third]),
            json!({
                "group_status": "ACSC",
                "reason": null,
                "transactions": [
                    { "end_to_end_id": "BILL-1", "status": "ACSC", "reason": null },
                    { "end_to_end_id": "BILL-2", "status": "RJCT", "reason": "AC01" },
                ],
            })
        );
    }

    #[test]
    fn a_group_rejection_carries_its_reason() {
        let rejected = parse(
            report(
                "RJCT",
                "      <StsRsnInf>\n        <Rsn>\n          <Cd>FF01</Cd>\n        </Rsn>\n      </StsRsnInf>\n",
                "",
            )
            .as_bytes(),
        )
        .expect("report");
        assert_eq!(
            status(&[rejected]),
            json!({ "group_status": "RJCT", "reason": "FF01", "transactions": [] })
        );
    }

    #[test]
    fn what_is_not_a_report_is_refused_with_the_reason() {
        assert!(parse(b"\xff").unwrap_err().contains("UTF-8"));
        assert!(parse(b"<a/>").unwrap_err().contains("not a pain.002"));
        let camt = "<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:camt.053.001.08\"/>";
        assert!(
            parse(camt.as_bytes())
                .unwrap_err()
                .contains("not a pain.002")
        );
        let doctype = format!("<!DOCTYPE x [<!ENTITY a \"b\">]>{}", report("ACTC", "", ""));
        assert!(parse(doctype.as_bytes()).unwrap_err().contains("DOCTYPE"));
        let no_id = report("ACTC", "", "").replace("<OrgnlMsgId>LS-RUN-1-1</OrgnlMsgId>", "");
        assert!(parse(no_id.as_bytes()).unwrap_err().contains("OrgnlMsgId"));
    }

    #[test]
    fn report_numbers_order_the_mocks_names() {
        assert_eq!(report_number("PMT-1-pain.002-2.xml"), Some(2));
        assert_eq!(report_number("PMT-12-pain.002-10.xml"), Some(10));
        assert_eq!(report_number("stmt.sta"), None);
        assert_eq!(report_number("PMT-1-pain.002-x.xml"), None);
    }
}
