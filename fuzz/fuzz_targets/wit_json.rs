//! libFuzzer entry of [`corral_fuzz::wit_json`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::wit_json(data));
