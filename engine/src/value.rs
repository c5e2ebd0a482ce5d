//! `PyValue`: one tree for every decoded payload, whether it came from JSON or from pickle, so the
//! console renders both the same way. Pickle constructs that would need Python to evaluate
//! (globals, reduce calls, BUILD state) stay symbolic: nothing is ever executed.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", content = "v", rename_all = "lowercase")]
pub enum PyValue {
    None,
    Bool(bool),
    Int(i64),
    /// Integers that do not fit i64, as decimal text.
    BigInt(String),
    Float(f64),
    Str(String),
    Bytes(Vec<u8>),
    List(Vec<PyValue>),
    Tuple(Vec<PyValue>),
    Set(Vec<PyValue>),
    Dict(Vec<(PyValue, PyValue)>),
    /// A global reference such as `datetime.datetime` (GLOBAL / STACK_GLOBAL).
    Global(String),
    /// `callable(*args)` from REDUCE / NEWOBJ / NEWOBJ_EX / INST / OBJ, never evaluated.
    Call { func: Box<PyValue>, args: Vec<PyValue> },
    /// `obj` with BUILD state applied (shown as `obj.__setstate__(state)`).
    Build { obj: Box<PyValue>, state: Box<PyValue> },
    /// Something shown only by name (persistent ids, extension codes, cut-off depth).
    Opaque(String),
}
