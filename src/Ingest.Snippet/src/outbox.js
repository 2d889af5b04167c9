// Touches not yet acknowledged by the collector, kept in localStorage so the next page view retries them with the
// same event_id (the collector stores an event id once). Bounded: the oldest are dropped first.
export const OUTBOX_LIMIT = 20;

/** Adds or replaces (by event_id) a touch in the queue, keeping at most OUTBOX_LIMIT. */
export function enqueue(queue, touch) {
  const rest = queue.filter((t) => t.event_id !== touch.event_id);
  rest.push(touch);
  return rest.slice(-OUTBOX_LIMIT);
}

/** The queue without the touch with this event id. */
export function remove(queue, eventId) {
  return queue.filter((t) => t.event_id !== eventId);
}

/** Parses a stored queue; anything unreadable is an empty queue. */
export function parse(text) {
  try {
    const queue = JSON.parse(text);
    return Array.isArray(queue) ? queue.filter((t) => t && typeof t.event_id === 'string') : [];
  } catch {
    return [];
  }
}

/** Whether a collector answer means the touch is settled: stored (2xx) or never storable (4xx other than 429). */
export function settled(status) {
  return (status >= 200 && status < 300) || (status >= 400 && status < 500 && status !== 429);
}
