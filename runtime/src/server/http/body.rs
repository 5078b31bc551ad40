//! A response body that keeps something alive until it ends.
//!
//! A streamed answer (an SSE stream carrying a tool call's result) leaves
//! the handler long before its last byte: a limit released when the
//! response headers go out would let far more calls run than it says. The
//! guard rides with the body instead and is dropped when the body ends, or
//! when the connection drops it unfinished.

use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};

/// `inner`, holding `guard` until its last frame or until it is dropped.
pub(crate) struct Guarded<G> {
    inner: Body,
    guard: Option<G>,
}

impl<G: Send + Unpin + 'static> Guarded<G> {
    /// Wraps `inner` as an axum body holding `guard`.
    pub(crate) fn body(inner: Body, guard: G) -> Body {
        Body::new(Guarded {
            inner,
            guard: Some(guard),
        })
    }
}

impl<G: Unpin> http_body::Body for Guarded<G> {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.guard = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
