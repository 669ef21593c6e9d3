/* everyclaim/_decimal.h: Decimals read and built in place, shared by the compiled reader (x12/_fast.c)
 * and the compiled posting rows (ledger/_rows.c).
 *
 * The _decimal module's object is a header, a hash and an mpd_t whose coefficient, below 10**19, is one
 * 64-bit word in the object itself. Building an amount from its text here, or reading its cents, takes
 * about a tenth of the constructor's or of str()'s work (the bench file has ~20 amounts a claim, each
 * built once and read back as cents once). dec_layout_ok() checks the layout against Decimals the
 * constructor made and the results against the constructor's on sample texts; on any difference
 * (another Python, a debug build) the caller keeps the fast paths off and uses the constructor / str().
 */
#ifndef EVERYCLAIM_DECIMAL_H
#define EVERYCLAIM_DECIMAL_H
#include <Python.h>
#include <stdint.h>

typedef struct {
    uint8_t flags;
    Py_ssize_t exp, digits, len, alloc;
    uint64_t *data;
} MirrorMpd;

typedef struct {
    PyObject_HEAD
    Py_hash_t hash;
    MirrorMpd dec;
    uint64_t data[4];
} MirrorDec;

enum { MPD_NEG_ = 1, MPD_SPECIAL_ = 14, MPD_STATIC_ = 16, MPD_STATIC_DATA_ = 32 };

/* Decimal(text) for plain amount text ("-", digits, one "."; at most 18 significant digits), NULL (no
   exception) for anything else, or NULL with MemoryError */
static PyObject *dec_from_ascii(PyObject *type, const Py_UCS1 *s, Py_ssize_t n) {
    Py_ssize_t i = 0, frac = -1;
    int neg = 0, nd = 0, any = 0;
    uint64_t coef = 0;
    if (n > 0 && s[0] == '-') {
        neg = 1;
        i = 1;
    }
    for (; i < n; i++) {
        Py_UCS1 ch = s[i];
        if (ch >= '0' && ch <= '9') {
            any = 1;
            if (frac >= 0) frac++;
            if (coef == 0 && ch == '0') continue; /* a leading zero */
            if (++nd > 18) return NULL;
            coef = coef * 10 + (uint64_t)(ch - '0');
        } else if (ch == '.' && frac < 0) {
            frac = 0;
        } else {
            return NULL;
        }
    }
    if (!any) return NULL;
    MirrorDec *d = PyObject_New(MirrorDec, (PyTypeObject *)type);
    if (d == NULL) return NULL;
    d->hash = -1;
    d->dec.flags = (uint8_t)(MPD_STATIC_ | MPD_STATIC_DATA_ | (neg ? MPD_NEG_ : 0));
    d->dec.exp = frac < 0 ? 0 : -frac;
    d->dec.digits = nd ? nd : 1;
    d->dec.len = 1;
    d->dec.alloc = 4;
    d->dec.data = d->data;
    d->data[0] = coef;
    return (PyObject *)d;
}

/* a Decimal's exact cents into *out: 1; 0 when it has none in 64 bits (a fraction of a cent, NaN,
   infinity, a coefficient of more than one word, too large) */
static int dec_cents(PyObject *v, long long *out) {
    const MirrorDec *d = (const MirrorDec *)v;
    if ((d->dec.flags & MPD_SPECIAL_) || d->dec.len != 1) return 0;
    uint64_t c = d->dec.data[0];
    Py_ssize_t e = d->dec.exp + 2; /* cents = c * 10**e */
    for (; e < 0; e++) {
        if (c % 10) return 0;
        c /= 10;
    }
    for (; e > 0; e--) {
        if (c > (uint64_t)INT64_MAX / 10) return 0;
        c *= 10;
    }
    if (c > (uint64_t)INT64_MAX) return 0;
    *out = (d->dec.flags & MPD_NEG_) ? -(long long)c : (long long)c;
    return 1;
}

/* 1 when dec_from_ascii and dec_cents may be used with ``type`` (decimal.Decimal): its objects have the
   layout above, and both give what the constructor and str() give on sample texts; 0 if not; -1 error */
static int dec_layout_ok(PyObject *type) {
    PyTypeObject *t = (PyTypeObject *)type;
    if (!PyType_Check(type) || t->tp_basicsize != (Py_ssize_t)sizeof(MirrorDec) || t->tp_itemsize != 0 ||
        (t->tp_flags & Py_TPFLAGS_HAVE_GC))
        return 0;
    static const char *samples[] = {"-1234.5600", "0", "-0", "0.00", "-0.05", "12", "12.", ".5", "007.10",
                                    "999999999999999999", "-123456789012.345678", "100", "0.000", "1.5", NULL};
    for (int k = 0; samples[k] != NULL; k++) {
        PyObject *text = PyUnicode_FromString(samples[k]);
        if (text == NULL) return -1;
        PyObject *slow = PyObject_CallOneArg(type, text);
        PyObject *fast = slow == NULL ? NULL : dec_from_ascii(type, PyUnicode_1BYTE_DATA(text), PyUnicode_GET_LENGTH(text));
        Py_DECREF(text);
        if (slow == NULL || fast == NULL) {
            Py_XDECREF(slow);
            return PyErr_Occurred() ? -1 : 0;
        }
        const MirrorDec *m = (const MirrorDec *)slow, *f = (const MirrorDec *)fast;
        int same = Py_IS_TYPE(slow, t) && m->dec.data == m->data && m->dec.len == 1 && m->dec.alloc == 4 &&
                   m->hash == -1 && m->dec.flags == f->dec.flags && m->dec.exp == f->dec.exp &&
                   m->dec.digits == f->dec.digits && m->data[0] == f->data[0];
        PyObject *a = same ? PyObject_Str(slow) : NULL, *b = same ? PyObject_Str(fast) : NULL;
        if (same) same = a != NULL && b != NULL && PyUnicode_Compare(a, b) == 0 &&
                         PyObject_RichCompareBool(slow, fast, Py_EQ) == 1;
        if (same) { /* the cents, against Decimal * 100 as an int where that is whole */
            long long c;
            PyObject *hundred = PyLong_FromLong(100), *scaled = NULL, *whole = NULL;
            if (hundred != NULL) scaled = PyNumber_Multiply(slow, hundred);
            if (scaled != NULL) whole = PyNumber_Long(scaled);
            int exact = whole != NULL && PyObject_RichCompareBool(whole, scaled, Py_EQ) == 1;
            int got = dec_cents(slow, &c);
            if (exact && got) same = PyLong_AsLongLong(whole) == c;
            else if (got) same = 0;
            Py_XDECREF(hundred);
            Py_XDECREF(scaled);
            Py_XDECREF(whole);
        }
        Py_XDECREF(a);
        Py_XDECREF(b);
        Py_DECREF(slow);
        Py_DECREF(fast);
        if (PyErr_Occurred()) return -1;
        if (!same) return 0;
    }
    return 1;
}
#endif
