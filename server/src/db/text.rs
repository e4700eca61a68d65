//! Long text read back from the database. MariaDB sends TEXT columns with the BLOB type code,
//! and sqlx's `Any` driver (0.8) then refuses to decode them as strings (sqlx issue #3390,
//! fixed in its next major version), so the TEXT columns' fields decode through these, which
//! take either. Short strings are VARCHAR on MariaDB and decode as `String`.

use sqlx::any::{AnyTypeInfo, AnyTypeInfoKind, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Any, Decode, Type, ValueRef};

/// A TEXT column's value.
pub struct Text(String);

/// A nullable TEXT column's value.
pub struct OptionalText(Option<String>);

fn compatible(ty: &AnyTypeInfo) -> bool {
    matches!(ty.kind(), AnyTypeInfoKind::Text | AnyTypeInfoKind::Blob)
}

fn decode_text(value: AnyValueRef<'_>) -> Result<String, BoxDynError> {
    if value.type_info().kind() == AnyTypeInfoKind::Blob {
        Ok(String::from_utf8(<Vec<u8> as Decode<Any>>::decode(value)?)?)
    } else {
        <String as Decode<Any>>::decode(value)
    }
}

impl Type<Any> for Text {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        compatible(ty)
    }
}

impl<'r> Decode<'r, Any> for Text {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        decode_text(value).map(Text)
    }
}

impl From<Text> for String {
    fn from(text: Text) -> String {
        text.0
    }
}

impl Type<Any> for OptionalText {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        compatible(ty) || ty.kind() == AnyTypeInfoKind::Null
    }
}

impl<'r> Decode<'r, Any> for OptionalText {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        if value.is_null() {
            return Ok(OptionalText(None));
        }
        decode_text(value).map(|text| OptionalText(Some(text)))
    }
}

impl From<OptionalText> for Option<String> {
    fn from(text: OptionalText) -> Option<String> {
        text.0
    }
}
