// Two copies of each value: a first-party cookie on the registrable domain and localStorage. Either restores the other.
const YEAR_S = 400 * 24 * 3600; // browsers cap cookie lifetimes at 400 days

/** A cookie + localStorage pair over the given document and storage (injected so tests can pass fakes). */
export function createStore(doc, storage, cookieDomain, secure) {
  function readCookie(name) {
    for (const part of String(doc.cookie || '').split(';')) {
      const i = part.indexOf('=');
      if (i > 0 && part.slice(0, i).trim() === name) return decodeURIComponent(part.slice(i + 1).trim());
    }
    return null;
  }

  function readStorage(name) {
    try {
      return storage ? storage.getItem(name) : null;
    } catch {
      return null;
    }
  }

  function write(name, value) {
    doc.cookie = name + '=' + encodeURIComponent(value) + '; Max-Age=' + YEAR_S + '; Path=/; SameSite=Lax' +
      (cookieDomain ? '; Domain=' + cookieDomain : '') + (secure ? '; Secure' : '');
    try {
      if (storage) storage.setItem(name, value);
    } catch {
      // Storage full or blocked: the cookie still holds the value.
    }
  }

  return {
    /** The value from the cookie, else from storage; whichever copy was missing is written back. */
    get(name) {
      const cookie = readCookie(name);
      const stored = readStorage(name);
      const value = cookie ?? stored;
      if (value !== null && (cookie !== value || stored !== value)) write(name, value);
      return value;
    },
    /** The value from the cookie, else from storage, writing nothing (before consent). */
    peek(name) {
      return readCookie(name) ?? readStorage(name);
    },
    set: write,
    /** JSON helpers: a value that does not parse counts as missing. */
    getJson(name, peek) {
      try {
        return JSON.parse(peek ? this.peek(name) : this.get(name)) || null;
      } catch {
        return null;
      }
    },
    setJson(name, value) {
      write(name, JSON.stringify(value));
    },
    readStorage,
    writeStorage(name, value) {
      try {
        storage.setItem(name, value);
      } catch {
        // Best effort: a queue that cannot be kept is only lost on this page.
      }
    },
  };
}
