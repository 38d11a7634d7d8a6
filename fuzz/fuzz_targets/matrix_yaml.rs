//! Fuzz target `matrix_yaml`: any input is read without panicking; see `rungs_format::fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rungs_format::fuzz::matrix_yaml(data);
});
