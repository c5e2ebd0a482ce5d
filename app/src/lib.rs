//! Taskmill console.
