//! The LMTP command parser and the DATA decoder on arbitrary client bytes:
//! never a panic; the decoder never keeps more than its limit, consumes
//! what it was given until the end line, and gives the same message
//! however the input is split (the first byte picks the split point).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tidemark_lmtp::{DataDecoder, parse_command};

fuzz_target!(|data: &[u8]| {
    let Some((&sel, input)) = data.split_first() else { return };
    for line in input.split(|&b| b == b'\n') {
        if let Ok(c) = parse_command(line) {
            let _ = format!("{c:?}");
        } else if let Err(r) = parse_command(line) {
            let wire = r.encode();
            assert!(wire.ends_with(b"\r\n"));
            assert_eq!(wire.iter().filter(|&&b| b == b'\n').count(), 1);
        }
    }
    let limit = 64 + usize::from(sel) * 4;
    let run = |chunks: &[&[u8]]| {
        let mut d = DataDecoder::new(limit);
        let mut used_total = 0;
        for c in chunks {
            let (used, end) = d.feed(c);
            assert!(used <= c.len());
            used_total += used;
            assert!(d.len() <= limit);
            if let Some(e) = end {
                return (Some(e), used_total, d.into_message());
            }
            assert_eq!(used, c.len());
        }
        (None, used_total, d.into_message())
    };
    let whole = run(&[input]);
    let cut = usize::from(sel) % (input.len() + 1);
    let split = run(&[&input[..cut], &input[cut..]]);
    assert_eq!(whole, split);
});
