//! What a chassis holds: a [`Stage`], anything that becomes a component and
//! says what its `inbox` takes and its `outbox` sends, and [`LinksTo`], the
//! compile-time check that one stage can feed the next.

use axon::{BoxSet, Component, ComponentRef};

/// Something a chassis can hold: it becomes a component, and its types say
/// what its `inbox` takes ([`In`](Self::In)) and what its `outbox` sends
/// ([`Out`](Self::Out)), so that [`Pipeline!`](crate::Pipeline!) can check
/// each link at compile time.
///
/// Every [`Component`] is a stage (its types come from its
/// [`BoxSet`]); so is a built [`Graphline`](crate::chassis::Graphline).
pub trait Stage {
    /// What the stage's `inbox` takes ([`axon::Absent`] if it has none).
    type In: 'static;
    /// What the stage's `outbox` sends ([`axon::Absent`] if it has none).
    type Out: 'static;

    /// Makes the stage a component (not yet activated).
    fn into_component(self) -> ComponentRef;
}

impl<C: Component> Stage for C {
    type In = <C::Boxes as BoxSet>::In;
    type Out = <C::Boxes as BoxSet>::Out;

    fn into_component(self) -> ComponentRef {
        ComponentRef::new(self)
    }
}

/// Says that the `outbox` of stage `A`, which sends `Self`, can feed the
/// `inbox` of stage `B`, which takes `I`: true only when `Self` and `I` are
/// the same type. A [`Pipeline!`](crate::Pipeline!) whose neighbours do not
/// agree fails to compile, naming the next stage and both types; and a
/// generic stage in a Pipeline takes its types from its neighbours.
#[diagnostic::on_unimplemented(
    message = "a Pipeline cannot link the `outbox` of `{A}` (it sends `{Self}`) to the `inbox` of `{B}` (it takes `{I}`)",
    label = "these neighbouring stages carry different types",
    note = "each stage's `outbox` feeds the next stage's `inbox`, so the types must be the same"
)]
pub trait LinksTo<I, A, B> {}

// The one impl: the compiler, looking for `LinksTo`, makes the two types
// equal, so a generic stage (a `PassThrough`, a `MessageRateLimit`) takes
// its type from its neighbours with no annotation, and a mismatch is
// reported as "type mismatch resolving `<Next as Stage>::In == Sent`",
// naming the next stage and both types. (A second, never-matching impl
// would keep the message above, at the cost of that inference.)
impl<T, A, B> LinksTo<T, A, B> for T {}
