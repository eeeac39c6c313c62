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
/// agree fails to compile with the message below, naming both stages, both
/// boxes and both types.
#[diagnostic::on_unimplemented(
    message = "a Pipeline cannot link the `outbox` of `{A}` (it sends `{Self}`) to the `inbox` of `{B}` (it takes `{I}`)",
    label = "the `outbox` of `{A}` sends `{Self}`, the `inbox` of `{B}` takes `{I}`",
    note = "each stage's `outbox` feeds the next stage's `inbox`, so the types must be the same"
)]
pub trait LinksTo<I, A, B> {}

impl<T, A, B> LinksTo<T, A, B> for T {}

// A second impl, which no stage's types can match. With two impls the
// compiler cannot settle `LinksTo` by making the two types equal, so a
// mismatch is reported as "not implemented", with the message above, rather
// than as a bare type mismatch. (The inference a single impl would give, a
// generic stage taking its types from its neighbours, comes instead from the
// `Stage<In = …>` bound that sits beside every `LinksTo` bound.)
impl<T, A, B> LinksTo<NotABox<T>, A, B> for T {}

/// Never made: only there to give [`LinksTo`] its second impl.
#[doc(hidden)]
#[derive(Debug)]
pub struct NotABox<T>(std::marker::PhantomData<T>);
