//! What the compiler says about chassis written wrongly: the message must
//! name both stages, both boxes and both types.

#[test]
fn pipeline_mismatches_are_reported_naming_both_boxes_and_types() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/pipeline_mismatch.rs");
    cases.compile_fail("tests/ui/circular_pipeline_mismatch.rs");
}
