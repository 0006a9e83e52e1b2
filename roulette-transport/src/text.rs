//! Strings and lists with a size cap that is checked while decoding.

use serde::{Deserialize, Deserializer, Serialize, de::Error as _};
use std::fmt;
use std::ops::Deref;

/// A string of at most `MAX` bytes. Decoding a longer one fails, so no field of a message can be
/// larger than its cap.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

/// A string was longer than its field allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("text of {len} bytes is longer than the {max} allowed")]
pub struct TooLong {
    /// Its length in bytes.
    pub len: usize,
    /// The cap.
    pub max: usize,
}

impl<const MAX: usize> Text<MAX> {
    /// Wraps `text` if it fits.
    pub fn new(text: impl Into<String>) -> Result<Self, TooLong> {
        let text = text.into();
        if text.len() > MAX {
            return Err(TooLong {
                len: text.len(),
                max: MAX,
            });
        }
        Ok(Self(text))
    }

    /// Wraps `text`, cutting it at a character boundary so it fits. For text the sender
    /// produced itself, such as a sanitised preview.
    pub fn truncate(text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.len() > MAX {
            let mut cut = MAX;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            text.truncate(cut);
        }
        Self(text)
    }

    /// The string.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The owned string.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl<const MAX: usize> Deref for Text<MAX> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> fmt::Debug for Text<MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::new(s).map_err(D::Error::custom)
    }
}

/// A list of at most `MAX` items.
#[derive(Clone, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(transparent)]
pub struct List<T, const MAX: usize>(Vec<T>);

impl<T, const MAX: usize> List<T, MAX> {
    /// Wraps `items` if there are few enough.
    pub fn new(items: Vec<T>) -> Result<Self, TooLong> {
        if items.len() > MAX {
            return Err(TooLong {
                len: items.len(),
                max: MAX,
            });
        }
        Ok(Self(items))
    }

    /// Wraps the first `MAX` of `items`.
    pub fn truncate(mut items: Vec<T>) -> Self {
        items.truncate(MAX);
        Self(items)
    }

    /// The items.
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

impl<T, const MAX: usize> Deref for List<T, MAX> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T: fmt::Debug, const MAX: usize> fmt::Debug for List<T, MAX> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl<'de, T: Deserialize<'de>, const MAX: usize> Deserialize<'de> for List<T, MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor<T, const MAX: usize>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>, const MAX: usize> serde::de::Visitor<'de> for Visitor<T, MAX> {
            type Value = List<T, MAX>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "a list of at most {MAX} items")
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<Self::Value, A::Error> {
                let mut items = Vec::new();
                // Stop at the cap instead of collecting an attacker's whole list first.
                while let Some(item) = seq.next_element()? {
                    if items.len() == MAX {
                        return Err(A::Error::custom(format!("more than {MAX} items")));
                    }
                    items.push(item);
                }
                Ok(List(items))
            }
        }
        d.deserialize_seq(Visitor::<T, MAX>(std::marker::PhantomData))
    }
}
