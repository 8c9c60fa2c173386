//! Info parsing: any bytes either fail (shorter than 552) or parse; an accepted Info
//! re-encodes to exactly 552 bytes that parse again to the same Info when its text was
//! valid UTF-8 that fits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsm_proto::{INFO_LEN, Info};

fuzz_target!(|data: &[u8]| {
    let Ok(info) = Info::parse(data) else {
        assert!(data.len() < INFO_LEN);
        return;
    };
    let encoded = info.encode();
    assert_eq!(encoded.len(), INFO_LEN);
    assert_eq!(&encoded[545..], &[0; 7]);
    let again = Info::parse(&encoded).expect("our own encoding parses");
    if info.cmd.len() <= 256 && info.cwd.len() <= 256 {
        assert_eq!(again, info);
        // Canonical input (zero padding, zero-filled text) re-encodes byte for byte.
        assert_eq!(again.encode(), encoded);
    }
});
