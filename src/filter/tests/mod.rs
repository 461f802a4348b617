//! Tests across the filter module: the `-w` parser, the table against a
//! linear scan, and the registry's remove guarantee under concurrency.

mod expr;
mod predicate;
mod registry;
mod table;
