//! Unit tests of the text family.
