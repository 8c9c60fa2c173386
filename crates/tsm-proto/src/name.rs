//! Session names (spec/cli.md, "Conventions"): the only way a name reaches a path.
//!
//! A name is 1 or more bytes with no `/`, NUL or control character, is not `.` or `..`
//! and does not start with `-` or `.`. Its longest length depends on the socket directory
//! (the socket path must fit Linux's 108-byte `sun_path`), so that last check is made by
//! [`SocketDir::socket_path`](crate::SocketDir::socket_path).

use std::fmt;
use std::ops::Deref;

use crate::error::NameError;

/// A session name that passed the content rules, safe to join to the socket directory.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionName(String);

impl SessionName {
    /// Checks `name` against the content rules.
    ///
    /// # Errors
    ///
    /// [`NameError::Empty`], [`NameError::BadChar`] or [`NameError::BadStart`].
    ///
    /// ```
    /// use tsm_proto::SessionName;
    ///
    /// assert!(SessionName::new("api-server").is_ok());
    /// assert!(SessionName::new("../etc").is_err());
    /// assert!(SessionName::new("a/b").is_err());
    /// ```
    pub fn new(name: &str) -> Result<SessionName, NameError> {
        if name.is_empty() {
            return Err(NameError::Empty);
        }
        if let Some(bad) = name.chars().find(|&c| c == '/' || c.is_control()) {
            return Err(NameError::BadChar(bad));
        }
        if name.starts_with('.') || name.starts_with('-') {
            return Err(NameError::BadStart);
        }
        Ok(SessionName(name.to_owned()))
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Deref for SessionName {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SessionName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SessionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<&str> for SessionName {
    type Error = NameError;

    fn try_from(name: &str) -> Result<SessionName, NameError> {
        SessionName::new(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_names_that_could_escape_or_confuse() {
        for (name, err) in [
            ("", NameError::Empty),
            ("a/b", NameError::BadChar('/')),
            ("..", NameError::BadStart),
            (".", NameError::BadStart),
            (".hidden", NameError::BadStart),
            ("-rf", NameError::BadStart),
            ("a\0b", NameError::BadChar('\0')),
            ("tab\there", NameError::BadChar('\t')),
            ("esc\x1b", NameError::BadChar('\x1b')),
            ("del\x7f", NameError::BadChar('\x7f')),
        ] {
            assert_eq!(SessionName::new(name), Err(err), "{name:?}");
        }
    }

    #[test]
    fn accepts_ordinary_names() {
        for name in ["demo", "demo-2", "repo@main", "a.b", "ünïcode", "with space", "x-"] {
            assert_eq!(SessionName::new(name).unwrap().as_str(), name);
        }
    }
}
