//! libFuzzer entry of [`corral_fuzz::component`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| corral_fuzz::component(data));
