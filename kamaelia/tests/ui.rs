//! What the compiler says about chassis written wrongly: the message must
//! name both stages, both boxes and both types.

// The messages do not depend on the build; checked once, in the debug run,
// since each check compiles the crate again.
#[test]
#[cfg_attr(not(debug_assertions), ignore = "checked in the debug build")]
fn pipeline_mismatches_are_reported_naming_both_boxes_and_types() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/pipeline_mismatch.rs");
    cases.compile_fail("tests/ui/circular_pipeline_mismatch.rs");
}
