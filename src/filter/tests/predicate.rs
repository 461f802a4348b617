//! Payload predicates evaluated on JSON payloads: types, numbers, paths.

use crate::filter::Expr;
use crate::filter::payload::LazyPayload;
use crate::protocol::Payload;

fn holds(expr: &str, payload: &str) -> bool {
    let expr = Expr::parse(expr).unwrap();
    let payload = Payload::json(payload.to_owned());
    let lazy = LazyPayload::new(&payload);
    expr.predicates().iter().all(|p| p.eval(&lazy))
}

#[test]
fn equality_by_type_and_numbers_by_value() {
    assert!(holds(r#"payload.user == "ann""#, r#"{"user":"ann"}"#));
    assert!(!holds(r#"payload.user == "ann""#, r#"{"user":"bob"}"#));
    assert!(!holds(r#"payload.n == "5""#, r#"{"n":5}"#));
    assert!(holds("payload.n == 5", r#"{"n":5.0}"#));
    assert!(holds("payload.x == null", r#"{"x":null}"#));
    assert!(holds("payload.x == true", r#"{"x":true}"#));
    assert!(holds(r#"payload.s == "a\"b\u00e9""#, r#"{"s":"a\"bé"}"#));
}

#[test]
fn not_equals_needs_the_field() {
    assert!(holds(r#"payload.user != "ann""#, r#"{"user":"bob"}"#));
    assert!(!holds(r#"payload.user != "ann""#, r#"{"user":"ann"}"#));
    assert!(!holds(r#"payload.user != "ann""#, r#"{}"#));
    assert!(holds(r#"payload.user != "ann""#, r#"{"user":1}"#));
}

#[test]
fn integers_compare_exactly_at_the_edges() {
    // 2^63 + 1 and 2^63 are one f64; exact integer handling tells them apart.
    assert!(holds("payload.n > 9223372036854775808", r#"{"n":9223372036854775809}"#));
    assert!(!holds("payload.n > 9223372036854775809", r#"{"n":9223372036854775809}"#));
    assert!(holds("payload.n == 18446744073709551615", r#"{"n":18446744073709551615}"#));
    assert!(!holds("payload.n == 18446744073709551614", r#"{"n":18446744073709551615}"#));
    assert!(holds("payload.n < -9223372036854775807", r#"{"n":-9223372036854775808}"#));
    assert!(holds("payload.n >= 1.5", r#"{"n":2}"#));
    assert!(holds("payload.n <= 2", r#"{"n":1.99}"#));
    assert!(!holds("payload.n > 1", r#"{"n":"7"}"#));
}

#[test]
fn exists_regex_and_paths() {
    assert!(holds("payload.a", r#"{"a":null}"#));
    assert!(!holds("payload.b", r#"{"a":null}"#));
    assert!(holds(r#"payload.name =~ "^an+$""#, r#"{"name":"annn"}"#));
    assert!(!holds(r#"payload.name =~ "^an+$""#, r#"{"name":["ann"]}"#));
    assert!(holds(r#"payload.items.1.id == 7"#, r#"{"items":[{"id":1},{"id":7}]}"#));
    assert!(holds(r#"payload."a.b" == 1"#, r#"{"a.b":1}"#));
    assert!(holds(r#"payload.a.0 == 1"#, r#"{"a":{"0":1}}"#));
    assert!(holds("payload.a == 1 && payload.b == 2", r#"{"a":1,"b":2}"#));
    assert!(!holds("payload.a == 1 && payload.b == 2", r#"{"a":1,"b":3}"#));
}

#[test]
fn binary_payloads_fail_every_test() {
    let expr = Expr::parse("payload.a").unwrap();
    let payload = Payload::binary(b"{\"a\":1}".to_vec());
    assert!(!expr.predicates()[0].eval(&LazyPayload::new(&payload)));
}
