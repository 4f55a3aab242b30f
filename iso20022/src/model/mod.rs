//! Version-independent models: one per message family, used by the rest of Clearway.
//!
//! Every struct names its child elements by their ISO 20022 tag (the tags are the same in every
//! wire version Clearway supports; where a version differs, both tags are fields, e.g. `BIC` and
//! `BICFI`) and lists them in XSD sequence order, which is the order the writer emits. Children a
//! struct does not type stay in its `rest` (see [`crate::wire::map`]), so nothing is lost.
//! Identifiers, codes and dates are kept as the text given; amounts are `Decimal`, never floats.

/// Declares a typed struct and its mapping to one element. Field kinds: `one` (required),
/// `opt` (optional), `many` (repeated).
macro_rules! iso_struct {
    (
        $(#[$m:meta])*
        pub struct $name:ident {
            $( $(#[$fm:meta])* $field:ident : $kind:ident $ty:ty = $tag:literal ),* $(,)?
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        pub struct $name {
            $( $(#[$fm])* #[doc = concat!("The `", $tag, "` element.")] #[serde(rename = $tag, skip_serializing_if = "crate::model::Absent::absent")] pub $field: iso_struct!(@ty $kind $ty), )*
            /// Child elements this struct does not type, kept for a lossless roundtrip.
            #[serde(skip_serializing_if = "crate::wire::map::Rest::is_empty")]
            pub rest: crate::wire::map::Rest,
        }

        impl crate::wire::map::Xml for $name {
            fn read(
                el: crate::wire::tree::Node<'_>,
                path: &crate::wire::map::Path<'_>,
            ) -> Result<Self, crate::wire::map::MapError> {
                const KNOWN: &[&str] = &[$($tag),*];
                const _: () = assert!(KNOWN.len() <= crate::wire::map::KNOWN_MAX);
                let r = crate::wire::map::In::new(el, path, KNOWN);
                Ok(Self { $( $field: iso_struct!(@read r $kind $tag)?, )* rest: r.rest })
            }

            fn write(&self, tag: &str, out: &mut String) {
                crate::wire::map::open(out, tag);
                self.write_content(out);
                crate::wire::map::close(out, tag);
            }
        }

        impl $name {
            /// Writes the children (typed fields and kept extras) without the enclosing tag.
            pub fn write_content(&self, out: &mut String) {
                let mut o = crate::wire::map::Out::new(out, &self.rest);
                $( o.field($tag, &iso_struct!(@as_field $kind self.$field)); )*
                o.finish();
            }
        }
    };
    (@ty one $t:ty) => { $t };
    (@ty opt $t:ty) => { Option<$t> };
    (@ty many $t:ty) => { Vec<$t> };
    (@read $r:ident one $tag:literal) => { $r.one_at(iso_struct!(@k $tag), $tag) };
    (@read $r:ident opt $tag:literal) => { $r.opt_at(iso_struct!(@k $tag), $tag) };
    (@read $r:ident many $tag:literal) => { $r.many_at(iso_struct!(@k $tag), $tag) };
    (@k $tag:literal) => {{
        const K: usize = crate::wire::map::index_of(KNOWN, $tag);
        K
    }};
    (@as_field one $e:expr) => { Some(&$e) };
    (@as_field opt $e:expr) => { $e.as_ref() };
    (@as_field many $e:expr) => { $e.iter().collect::<Vec<_>>() };
}

/// Declares a text newtype (identifier, code, date) mapped to a leaf element.
macro_rules! text_type {
    ($( $(#[$m:meta])* $name:ident ),* $(,)?) => { $(
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default, serde::Serialize)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            /// The text as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name(s.to_owned())
            }
        }

        impl crate::wire::map::Xml for $name {
            fn read(
                el: crate::wire::tree::Node<'_>,
                path: &crate::wire::map::Path<'_>,
            ) -> Result<Self, crate::wire::map::MapError> {
                crate::wire::map::leaf_text(el, path).map(|t| $name(t.to_owned()))
            }
            fn write(&self, tag: &str, out: &mut String) {
                crate::wire::map::write_leaf(out, tag, &self.0);
            }
        }
    )* };
}

/// Lets `parse --json` leave out absent fields.
pub trait Absent {
    /// True when the field has no value to show.
    fn absent(&self) -> bool;
}

impl<T: crate::wire::map::Xml> Absent for T {
    fn absent(&self) -> bool {
        false
    }
}

impl<T> Absent for Option<T> {
    fn absent(&self) -> bool {
        self.is_none()
    }
}

impl<T> Absent for Vec<T> {
    fn absent(&self) -> bool {
        self.is_empty()
    }
}

pub mod cancellation_request;
pub mod common;
pub mod credit_transfer;
pub mod header;
pub mod investigation_resolution;
pub mod payment_return;
pub mod payment_status;
pub mod statement;
