//! Label parsing: any text either fails with an error or gives labels whose `k=v` form
//! parses back to the same labels.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tsm_proto::Labels;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = Labels::parse_data(text);
    if let Ok(changes) = Labels::parse_changes(text) {
        let mut labels = Labels::new();
        labels.apply(&changes);
        let printed = labels.to_string();
        assert_eq!(Labels::parse_data(&printed), labels);
        let mut again = Labels::new();
        again.apply(&Labels::parse_changes(&printed).expect("printed labels are valid"));
        assert_eq!(again, labels);
    }
});
