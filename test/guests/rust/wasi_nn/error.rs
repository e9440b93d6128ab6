use std::fmt;

/// What a wasi-nn call failed with: reading a model file, or an errno from the host.
#[derive(Debug)]
pub enum Error {
    IoError(std::io::Error),
    BackendError(BackendError),
}

/// The host's errno, named as in the wasi-nn witx (`nn_errno`).
#[derive(Debug)]
pub enum BackendError {
    InvalidArgument,
    InvalidEncoding,
    MissingMemory,
    Busy,
    RuntimeError,
    UnsupportedOperation,
    TooLarge,
    NotFound,
    UnknownError(i32),
}

impl From<i32> for BackendError {
    fn from(errno: i32) -> Self {
        match errno {
            1 => Self::InvalidArgument,
            2 => Self::InvalidEncoding,
            3 => Self::MissingMemory,
            4 => Self::Busy,
            5 => Self::RuntimeError,
            6 => Self::UnsupportedOperation,
            7 => Self::TooLarge,
            8 => Self::NotFound,
            other => Self::UnknownError(other),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(error: std::io::Error) -> Self {
        Self::IoError(error)
    }
}

impl From<BackendError> for Error {
    fn from(error: BackendError) -> Self {
        Self::BackendError(error)
    }
}

impl fmt::Display for BackendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self {
            Self::InvalidArgument => "Caller module passed an invalid argument",
            Self::InvalidEncoding => "Invalid Encoding",
            Self::MissingMemory => "Caller module is missing a memory export",
            Self::Busy => "Device or resource busy",
            Self::RuntimeError => "Runtime Error",
            Self::UnsupportedOperation => "Unsupported Operation",
            Self::TooLarge => "Too Large",
            Self::NotFound => "Not Found",
            Self::UnknownError(errno) => {
                return write!(f, "Unknown Wasi-NN Backend Error Code `{}`", errno)
            }
        };
        write!(f, "WASI-NN Backend Error: {}", what)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::IoError(error) => write!(f, "IO Error: {}", error),
            Self::BackendError(error) => write!(f, "Backend Error: {}", error),
        }
    }
}

impl std::error::Error for BackendError {}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::IoError(error) => Some(error),
            Self::BackendError(error) => Some(error),
        }
    }
}

/// An errno from the host as a Result: 0 is success.
pub(crate) fn check(errno: i32) -> Result<(), Error> {
    if errno == 0 {
        Ok(())
    } else {
        Err(Error::BackendError(BackendError::from(errno)))
    }
}
