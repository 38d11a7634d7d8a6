//! Fuzz target `matrix_json`: any input is read without panicking; see `rungs_format::fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rungs_format::fuzz::matrix_json(data);
});
