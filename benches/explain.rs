//! One explain with the knowledge base already loaded, per input kind; and the knowledge base
//! load itself (what every process pays once).

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

use ndr::explain::explain;
use ndr::input::read;
use ndr::kb::KnowledgeBase;

const CHAIN: &str = "550 5.4.300 Message expired -> 451 4.4.397 Error communicating with target host. -> 421 4.4.2 Connection dropped due to SocketError";
const QUEUE: &str = include_str!("../tests/fixtures/get-queue/socketerror-led-chain.txt");
const LOG: &str = include_str!("../tests/fixtures/protocol-log/nocredentials-session.txt");
const NDR: &str = include_str!("../tests/fixtures/ndr-text/exchange-online-expired-chain.txt");
const DSN: &str = include_str!("../tests/fixtures/message/postfix-dsn-gmail-user-unknown.eml");

fn body(fixture: &str) -> &str {
    fixture.split_once("\n---\n").map_or(fixture, |(_, b)| b)
}

fn bench(c: &mut Criterion) {
    let kb = KnowledgeBase::embedded().unwrap();
    c.bench_function("load embedded knowledge base", |b| {
        b.iter(|| black_box(KnowledgeBase::embedded().unwrap()))
    });
    for (name, text) in [
        ("explain smtp-line chain", CHAIN),
        ("explain get-queue", body(QUEUE)),
        ("explain protocol-log", body(LOG)),
        ("explain ndr-text", body(NDR)),
        ("explain message (RFC 3464 DSN)", body(DSN)),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let r = read(black_box(text.as_bytes()), "-", None).unwrap();
                black_box(explain(&kb, &r))
            })
        });
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
