//! Fuzz target `people_csv`: any input is read without panicking; see `rungs_format::fuzz`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    rungs_format::fuzz::people_csv(data);
});
