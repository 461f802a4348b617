//! The `-w` parser: accepted forms, error kinds and columns, and the
//! canonical text roundtrip.

use proptest::prelude::*;

use crate::filter::expr::OPERATOR;
use crate::filter::{CmpOp, Expr, ExprErrorKind, Literal, Number, Path, Predicate, Test};

fn error(text: &str) -> (usize, ExprErrorKind) {
    let err = Expr::parse(text).unwrap_err();
    (err.column(), err.kind().clone())
}

#[test]
fn accepts_every_form() {
    let cases = [
        ("payload.a", "payload.a"),
        ("  payload.a  ", "payload.a"),
        (r#"payload.user=="ann""#, r#"payload.user == "ann""#),
        ("payload.n != -3", "payload.n != -3"),
        ("payload.n<1.5&&payload.m>=2e3", "payload.n < 1.5 && payload.m >= 2000.0"),
        ("payload.n <= 0 && payload.n > -1", "payload.n <= 0 && payload.n > -1"),
        ("payload.x == null", "payload.x == null"),
        ("payload.x == false", "payload.x == false"),
        (r#"payload.items.0.id =~ "^a.*""#, r#"payload.items.0.id =~ "^a.*""#),
        (r#"payload."a.b".c == 1"#, r#"payload."a.b".c == 1"#),
        (r#"payload."" == 1"#, r#"payload."" == 1"#),
        (r#"payload.s == "\u00e9\n\"\\\/""#, r#"payload.s == "é\n\"\\/""#),
        (r#"payload.s == "\ud83d\ude00""#, "payload.s == \"\u{1F600}\""),
    ];
    for (text, canonical) in cases {
        let expr = Expr::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(expr.to_string(), canonical, "{text}");
        assert_eq!(Expr::parse(canonical).unwrap(), expr, "{text}");
    }
}

#[test]
fn integers_stay_exact_and_floats_stay_floats() {
    let number =
        |text: &str| match Expr::parse(&format!("payload.n == {text}")).unwrap().predicates()[0]
            .test()
        {
            Test::Equals(Literal::Number(n)) => *n,
            other => panic!("{other:?}"),
        };
    assert_eq!(number("18446744073709551615"), Number::Int(u64::MAX.into()));
    assert_eq!(number("-9223372036854775808"), Number::Int(i64::MIN.into()));
    assert_eq!(number("18446744073709551616"), Number::Float(18_446_744_073_709_551_616.0));
    assert_eq!(number("5.0"), Number::Float(5.0));
    assert_eq!(number("1e2"), Number::Float(100.0));
}

#[test]
fn errors_name_the_fault_and_its_column() {
    use ExprErrorKind as K;
    let value = "a value (string, number, true, false, null)";
    let cases: Vec<(&str, usize, ExprErrorKind)> = vec![
        ("", 1, K::Empty),
        ("   ", 4, K::Empty),
        ("user == 1", 1, K::BadPath { reason: "a path starts with `payload.`" }),
        ("payload == 1", 8, K::BadPath { reason: "name a field: `payload.NAME`" }),
        (
            "payload. == 1",
            9,
            K::BadPath { reason: "empty segment after `.` (quote odd keys: payload.\"a b\")" },
        ),
        ("payload.a == ", 14, K::UnexpectedEnd { expected: "a value" }),
        ("payload.a == @", 14, K::UnexpectedChar { found: '@', expected: "a value" }),
        ("payload.a == ann", 14, K::UnexpectedChar { found: 'a', expected: value }),
        ("payload.a = 1", 11, K::UnexpectedChar { found: '=', expected: OPERATOR }),
        ("payload.a == 1 payload.b", 16, K::UnexpectedChar { found: 'p', expected: OPERATOR }),
        ("payload.a == 01", 14, K::BadNumber),
        ("payload.a == 1.", 14, K::BadNumber),
        ("payload.a == 1e999", 14, K::BadNumber),
        ("payload.a == --1", 14, K::BadNumber),
        (r#"payload.a == "abc"#, 14, K::UnterminatedString),
        (r#"payload.a == "a\qb""#, 16, K::BadEscape),
        (r#"payload.a == "\ud800x""#, 15, K::BadEscape),
        (r#"payload.a == "\u12""#, 15, K::BadEscape),
        (r#"payload.a > "5""#, 13, K::NotANumber),
        ("payload.a >= true", 14, K::NotANumber),
        ("payload.a =~ 5", 14, K::RegexNeedsString),
        ("payload.a || payload.b", 11, K::Unsupported { what: "`||`" }),
        ("!payload.a", 1, K::Unsupported { what: "`!`" }),
        ("payload.a && (payload.b)", 14, K::Unsupported { what: "`(`" }),
        ("payload.a &&", 13, K::UnexpectedEnd { expected: "a field path (payload.NAME)" }),
    ];
    for (text, column, kind) in cases {
        assert_eq!(error(text), (column, kind), "{text}");
    }
}

#[test]
fn bad_regex_reports_the_pattern_column_and_reason() {
    let (column, kind) = error(r#"payload.a =~ "(""#);
    assert_eq!(column, 14);
    assert!(
        matches!(&kind, ExprErrorKind::BadRegex(reason) if reason.contains("unclosed")),
        "{kind:?}"
    );
}

#[test]
fn columns_count_characters_not_bytes() {
    assert_eq!(error(r#"payload."é" == @"#).0, 16);
}

fn segment() -> impl Strategy<Value = Box<str>> {
    prop_oneof!["[a-z0-9_-]{1,6}", "[ -~é\\n]{0,5}"].prop_map(String::into_boxed_str)
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(|i| Number::Int(i.into())),
        any::<u64>().prop_map(|u| Number::Int(u.into())),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(Number::Float),
    ]
}

fn literal() -> impl Strategy<Value = Literal> {
    prop_oneof![
        Just(Literal::Null),
        any::<bool>().prop_map(Literal::Bool),
        number().prop_map(Literal::Number),
        any::<String>().prop_map(|s| Literal::String(s.into_boxed_str())),
    ]
}

fn test_case() -> impl Strategy<Value = Test> {
    let op = prop_oneof![Just(CmpOp::Lt), Just(CmpOp::Le), Just(CmpOp::Gt), Just(CmpOp::Ge)];
    let regex = prop_oneof![Just("^a+$"), Just("x|y"), Just("\\d{2}\""), Just("é.")]
        .prop_map(|r| Test::Matches(regex::Regex::new(r).unwrap()));
    prop_oneof![
        Just(Test::Exists),
        literal().prop_map(Test::Equals),
        literal().prop_map(Test::NotEquals),
        (op, number()).prop_map(|(op, n)| Test::Compare(op, n)),
        regex,
    ]
}

fn predicate() -> impl Strategy<Value = Predicate> {
    (prop::collection::vec(segment(), 1..4), test_case())
        .prop_map(|(segments, test)| Predicate::new(Path::new(segments).unwrap(), test))
}

proptest! {
    #[test]
    fn canonical_text_parses_back_to_the_same_expr(predicates in prop::collection::vec(predicate(), 1..4)) {
        let expr = Expr::new(predicates);
        let text = expr.to_string();
        let parsed = Expr::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(parsed, expr);
    }

    #[test]
    fn any_text_parses_or_fails_with_a_column_inside_it(text in "[ -~é]{0,40}") {
        if let Err(err) = Expr::parse(&text) {
            prop_assert!(err.column() >= 1 && err.column() <= text.chars().count() + 1, "{}", err);
        }
    }
}
