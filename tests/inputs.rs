//! Reader behaviour on whole pastes: several NDRs in one paste, a queue dump followed by the
//! protocol log of the same host, repeated errors folded into one, free text recognised only
//! when an entry knows it.

use ndr::explain::{Explanation, explain};
use ndr::input::read;
use ndr::kb::KnowledgeBase;

fn run(text: &str) -> Explanation {
    let kb = KnowledgeBase::embedded().unwrap();
    let reading = read(text.as_bytes(), "-", None).unwrap();
    explain(&kb, &reading)
}

fn top(e: &Explanation, i: usize) -> &str {
    e.findings[i]
        .matches
        .first()
        .map_or("(none)", |m| m.id.as_str())
}

#[test]
fn several_ndrs_in_one_paste_are_each_read() {
    let text = "\
Delivery has failed to these recipients or groups:

ana.silva@fabrikam.example
Diagnostic information for administrators:
Generating server: EX01.contoso.example
ana.silva@fabrikam.example
Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'

Original message headers:
Subject: first

Delivery has failed to these recipients or groups:

orders@fabrikam.example
Diagnostic information for administrators:
Generating server: EX01.contoso.example
orders@fabrikam.example
Remote Server returned '550 4.4.7 QUEUE.Expired; message expired'

Original message headers:
Subject: second
";
    let e = run(text);
    assert_eq!(e.findings.len(), 2, "{:#?}", e.findings);
    assert_eq!(
        e.findings[0].recipient.as_deref(),
        Some("ana.silva@fabrikam.example")
    );
    assert_eq!(top(&e, 0), "exo-5-1-1-bad-destination-mailbox");
    assert_eq!(
        e.findings[1].recipient.as_deref(),
        Some("orders@fabrikam.example")
    );
    assert_eq!(top(&e, 1), "exo-4-4-7-message-expired");
}

/// See: issue "Foundation", mixed pastes: the log line that says why ranks the queue error.
#[test]
fn queue_error_and_protocol_log_of_the_same_host_are_explained_together() {
    let raw =
        std::fs::read_to_string("tests/fixtures/get-queue/mixed-queue-and-nocredentials-log.txt")
            .unwrap();
    let body = raw.split_once("\n---\n").unwrap().1;
    let e = run(body);
    assert_eq!(
        e.findings.len(),
        1,
        "the session is folded into the queue finding"
    );
    let f = &e.findings[0];
    assert_eq!(f.context["queue_identity"], "EX01\\1402");
    assert_eq!(f.context["connector_name"], "Outbound to Office 365");
    assert_eq!(f.context["tls_error"], "NoCredentials");
    assert_eq!(top(&e, 0), "exch-tls-nocredentials");
    // The queue's own error is still listed as a match.
    assert!(
        f.matches
            .iter()
            .any(|m| m.id == "exch-4-4-1-connection-timed-out")
    );
}

#[test]
fn repeated_errors_are_one_finding_with_a_count_and_the_distinct_values() {
    let text = "\
<a@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)
<b@example.com>: host mx.example.com[192.0.2.2] said: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)
<c@example.com>: host mx.example.com[192.0.2.1] said: 550 5.1.1 <a@example.com>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)
This is the mail system at host mail.example.org.
";
    let e = run(text);
    assert_eq!(e.findings.len(), 1, "{:#?}", e.findings);
    let f = &e.findings[0];
    assert_eq!(f.context["occurrences"], "3");
    assert_eq!(
        f.context["recipients"],
        "a@example.com, b@example.com, c@example.com"
    );
    assert_eq!(f.context["remote_ips"], "192.0.2.1, 192.0.2.2");
}

#[test]
fn free_text_is_a_finding_only_when_an_entry_knows_it() {
    let e = run("TLS negotiation failed with error NoCredentials\n");
    assert_eq!(e.findings.len(), 1);
    assert_eq!(top(&e, 0), "exch-tls-nocredentials");
    let e = run("Please call me back about the printer.\n");
    assert!(e.findings.is_empty());
}

#[test]
fn format_table_with_truncated_columns() {
    let text = "\
Identity      DeliveryType         Status MessageCount NextHopDomain    LastError
--------      ------------         ------ ------------ -------------    ---------
EX01\\1290     DnsConnectorDelivery Retry  6            fabrikam.example 451 4.4.0 DNS query failed. The error w...
";
    let e = run(text);
    assert_eq!(e.input_kind, "get-queue");
    let f = &e.findings[0];
    assert_eq!(f.context["queue_identity"], "EX01\\1290");
    assert_eq!(f.context["queue_status"], "Retry");
    assert_eq!(f.context["next_hop_domain"], "fabrikam.example");
    assert_eq!(top(&e, 0), "exch-451-4-4-0-dns-query-failed");
}
