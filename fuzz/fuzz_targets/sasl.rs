//! The SASL decoders (PLAIN, OAUTHBEARER, XOAUTH2, SCRAM's client-first and
//! client-final messages, stored SCRAM keys) on arbitrary client bytes: must
//! never panic. The first byte picks the channel binding and the mechanism
//! variant; a 0xff byte splits SCRAM's first message from its final one.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_sasl::{oauth, plain, scram};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, msg)) = data.split_first() else { return };
    let _ = plain::parse(msg);
    let _ = oauth::parse_oauthbearer(msg);
    let _ = oauth::parse_xoauth2(msg);
    let _ = scram::ScramKeys::parse(&String::from_utf8_lossy(msg));
    let binding = if sel & 1 == 1 {
        scram::Binding::TlsExporter(vec![sel; scram::EXPORTER_LEN])
    } else {
        scram::Binding::Unavailable
    };
    let (first, last) = match msg.iter().position(|&b| b == 0xff) {
        Some(i) => (&msg[..i], &msg[i + 1..]),
        None => (msg, &[][..]),
    };
    if let Ok(f) = scram::parse_client_first(first, sel & 2 == 2, &binding) {
        // Decoy keys: no PBKDF2, so the fuzzer stays fast.
        let keys = scram::ScramKeys::decoy(&f.username, b"fuzz");
        let (exchange, server_first) = scram::Exchange::start(f, keys, "srvnonce", &binding);
        assert!(server_first.starts_with("r="));
        let _ = exchange.finish(last);
    }
});
