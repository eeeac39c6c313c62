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

    /// The stage with a size limit of its own on its `inbox`: `messages`
    /// may wait there before a sender must wait (Axon's
    /// `inboxes["inbox"].setSize`).
    ///
    /// A chassis gives each stage that has no limit of its own its own
    /// inbox's (a ServerCore limits each connection's handler to
    /// [`DEFAULT_HANDLER_INBOX_SIZE`](crate::chassis::DEFAULT_HANDLER_INBOX_SIZE)
    /// chunks), so that a connection's Pipeline is bounded from end to end.
    /// A stage after one that cuts each message into many (a
    /// [`LineSplitter`](crate::LineSplitter): a chunk of 32 KiB may hold
    /// hundreds of lines) takes many more, smaller messages: with the chunks'
    /// limit, what it passes on goes in pieces of that many, a turn each,
    /// and whatever sits at the end of the Pipeline sends each piece on by
    /// itself. Give such a stage a limit in its own messages. A stage with
    /// no `inbox` is unchanged.
    ///
    /// # Examples
    ///
    /// ```
    /// use bytes::Bytes;
    /// use kamaelia::chassis::Stage;
    /// use kamaelia::{LineSplitter, Pipeline, PureTransformer};
    ///
    /// // Served by a ServerCore, 64 chunks may wait for the splitter, and 256
    /// // lines for the stage after it.
    /// let lines = Pipeline![
    ///     LineSplitter::new(),
    ///     PureTransformer::new(|line: Bytes| Some(line.len())).with_inbox_size(256),
    /// ];
    /// assert_eq!(lines.children()[1].inbox_size("inbox").unwrap(), Some(256));
    /// ```
    fn with_inbox_size(self, messages: usize) -> WithInboxSize<Self>
    where
        Self: Sized,
    {
        WithInboxSize {
            stage: self,
            messages: messages.max(1),
        }
    }
}

/// A stage whose `inbox` has a size limit of its own, which a chassis keeps:
/// made by [`Stage::with_inbox_size`].
#[derive(Debug)]
pub struct WithInboxSize<S> {
    stage: S,
    messages: usize,
}

/// So that a [`Graphline`](struct@crate::Graphline)'s child, which may be any
/// component, can have a limit of its own in the same way.
impl<S: Stage> From<WithInboxSize<S>> for ComponentRef {
    fn from(stage: WithInboxSize<S>) -> Self {
        stage.into_component()
    }
}

impl<S: Stage> Stage for WithInboxSize<S> {
    type In = S::In;
    type Out = S::Out;

    fn into_component(self) -> ComponentRef {
        let component = self.stage.into_component();
        // Only a stage with no `inbox` refuses, and it has nothing to limit.
        let _ = component.set_inbox_size("inbox", Some(self.messages));
        component
    }
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
