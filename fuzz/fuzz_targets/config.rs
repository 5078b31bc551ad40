//! libFuzzer entry of [`corral_fuzz::config`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::config(data));
