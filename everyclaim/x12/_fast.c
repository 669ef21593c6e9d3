/* everyclaim.x12._fast: the compiled hot loop of the X12 reader (optional; pure Python is the fallback).
 *
 * Three pieces, each doing exactly what its pure-Python twin does on the common case and handing every
 * other case back to Python (which stays the one place that decides and words findings and errors):
 *
 *   Splitter(buf, pos, end, term, ws, sep, delims, index, Segment)   tokenize.py's per-chunk loop: text to
 *       Segment tuples, stopping before an ISA-like segment (the Python loop reads its delimiters)
 *   Check(max_n, need, dtp, specs)                          guide.py's generated ``ok`` as data
 *   Walker(walker, segments, Walked)                        walk.py's ``_Walker.run`` fast path: the
 *       segment stays in the innermost loop and its elements pass the Check; else walker.step() /
 *       walker.seek() / walker.check_elements() in Python.
 *
 * tests/test_x12_native.py checks both paths give identical records, findings and errors.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <datetime.h>

#include "../_decimal.h"

/* ------------------------------------------------------------------------------------------------ */
/* small helpers                                                                                    */
/* ------------------------------------------------------------------------------------------------ */
static PyObject *S_enter, *S_must, *S_fast, *S_repeat_attr, *S_close_frame, *S_close_st, *S_end_st, *S_component, *S_stack, *S_st, *S_step, *S_seek, *S_check_elements, *S_end, *S_repeat,
    *S_foreign, *S_empty;

static int contains_char(PyObject *chars, Py_UCS4 ch) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(chars);
    int kind = PyUnicode_KIND(chars);
    const void *data = PyUnicode_DATA(chars);
    for (Py_ssize_t i = 0; i < n; i++)
        if (PyUnicode_READ(kind, data, i) == ch) return 1;
    return 0;
}

/* ------------------------------------------------------------------------------------------------ */
/* split_parts                                                                                      */
/* ------------------------------------------------------------------------------------------------ */
static PyObject *new_tuple_of(PyTypeObject *type, PyObject **items, Py_ssize_t n) {
    /* tuple.__new__(type, items) for a namedtuple class (no __dict__): steals the references */
    PyObject *t = type->tp_alloc(type, n);
    if (t == NULL) {
        for (Py_ssize_t i = 0; i < n; i++) Py_DECREF(items[i]);
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++) PyTuple_SET_ITEM(t, i, items[i]);
    return t;
}

/* the layout characters (tokenize._layout_chars) are among these: most segments start and end elsewhere */
static inline int maybe_layout(Py_UCS4 ch) { return ch <= ' ' || ch == 0x1a || ch == 0xa0; }

/* Short element values (segment ids, qualifiers, codes: up to 3 ASCII characters, or 4-5 starting with a
   letter, like RARC codes) are kept in a table of 1024 slots, one string per value (replaced on a
   collision): a segment then reuses them instead of allocating and freeing a string per element, and the
   walker's and the guide's set and dict look-ups find them with their hash cached. */
static struct { uint64_t key; PyObject *str; } short_table[1024];

/* the string of s[0:n] (ASCII), a new reference; NULL on error */
static PyObject *ascii_value(const Py_UCS1 *s, Py_ssize_t n) {
    if (n == 0) return Py_NewRef(S_empty);
    if (n > 5 || (n > 3 && !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))) {
        PyObject *v = PyUnicode_New(n, 127);
        if (v != NULL) memcpy(PyUnicode_1BYTE_DATA(v), s, (size_t)n);
        return v;
    }
    uint64_t key = (uint64_t)n;
    for (Py_ssize_t i = 0; i < n; i++) key |= (uint64_t)s[i] << (8 * (i + 1));
    unsigned slot = (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 54);
    if (short_table[slot].key == key && short_table[slot].str != NULL) return Py_NewRef(short_table[slot].str);
    PyObject *v = PyUnicode_New(n, 127);
    if (v == NULL) return NULL;
    memcpy(PyUnicode_1BYTE_DATA(v), s, (size_t)n);
    Py_XSETREF(short_table[slot].str, Py_NewRef(v));
    short_table[slot].key = key;
    return v;
}

/* s[0:n].split(c) for ASCII text, in one pass (NULL without an error past MAX_SPLIT elements: str.split
   does it) */
#define MAX_SPLIT 128
static PyObject *split_span(const Py_UCS1 *s, Py_ssize_t n, Py_UCS1 c) {
    Py_ssize_t ends[MAX_SPLIT];
    int k = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (s[i] == c) {
            if (k == MAX_SPLIT - 1) return NULL;
            ends[k++] = i;
        }
    }
    ends[k++] = n;
    PyObject *list = PyList_New(k);
    if (list == NULL) return NULL;
    Py_ssize_t start = 0;
    for (int j = 0; j < k; j++) {
        PyObject *v = ascii_value(s + start, ends[j] - start);
        if (v == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, j, v);
        start = ends[j] + 1;
    }
    return list;
}

/* Splitter(buf, pos, end, term, ws, sep, delims, index, Segment): iterates the Segments of buf[pos:end]
   (segments end at ``term``, the last one at ``end``), stopping before an ISA-like segment; ``pos`` and
   ``index`` then say where it stopped (one segment at a time, so what the consumer is done with is freed
   at once). The text is split where it lies: no string per segment. */
typedef struct {
    PyObject_HEAD
    PyObject *buf, *ws, *sep, *delims, *sid;
    PyTypeObject *segtype;
    Py_ssize_t pos, end, index;
    Py_UCS4 term;
} SplitterObject;

static void splitter_dealloc(SplitterObject *o) {
    Py_XDECREF(o->buf);
    Py_XDECREF(o->ws);
    Py_XDECREF(o->sep);
    Py_XDECREF(o->delims);
    Py_XDECREF(o->segtype);
    Py_XDECREF(o->sid);
    Py_TYPE(o)->tp_free((PyObject *)o);
}

/* Delimiters (a frozen dataclass of four str) cannot be part of a reference cycle: untracked by the cyclic
   GC, the segments holding them are untracked too (millions of objects it need not walk). Anything
   else stays tracked. */
static void untrack_delimiters(PyObject *d) {
    static const char *names[] = {"element", "component", "repetition", "segment"};
    PyObject *dict = PyObject_GenericGetDict(d, NULL);
    if (dict != NULL) { /* a __dict__ could hold anything */
        Py_DECREF(dict);
        return;
    }
    PyErr_Clear();
    for (int k = 0; k < 4; k++) {
        PyObject *v = PyObject_GetAttrString(d, names[k]);
        if (v == NULL) {
            PyErr_Clear();
            return;
        }
        int exact = PyUnicode_CheckExact(v);
        Py_DECREF(v);
        if (!exact) return;
    }
    PyObject *slots = PyObject_GetAttrString((PyObject *)Py_TYPE(d), "__slots__"); /* no other attribute */
    if (slots == NULL) {
        PyErr_Clear();
        return;
    }
    Py_DECREF(slots);
    PyObject_GC_UnTrack(d);
}

static PyObject *splitter_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    PyObject *buf, *term, *ws, *sep, *delims;
    PyTypeObject *segtype;
    Py_ssize_t pos, end, index;
    if (!PyArg_ParseTuple(args, "UnnUUUOnO!", &buf, &pos, &end, &term, &ws, &sep, &delims, &index,
                          &PyType_Type, &segtype))
        return NULL;
    if (PyUnicode_GET_LENGTH(term) != 1 || PyUnicode_GET_LENGTH(sep) != 1) {
        PyErr_SetString(PyExc_ValueError, "the terminator and the separator are one character each");
        return NULL;
    }
    if (pos < 0 || end > PyUnicode_GET_LENGTH(buf) || pos > end) {
        PyErr_SetString(PyExc_ValueError, "pos and end must lie within buf");
        return NULL;
    }
    SplitterObject *o = (SplitterObject *)type->tp_alloc(type, 0);
    if (o == NULL) return NULL;
    o->buf = Py_NewRef(buf);
    o->ws = Py_NewRef(ws);
    o->sep = Py_NewRef(sep);
    o->delims = Py_NewRef(delims);
    o->segtype = (PyTypeObject *)Py_NewRef(segtype);
    o->sid = Py_NewRef(S_empty);
    o->pos = pos;
    o->end = end;
    o->index = index;
    o->term = PyUnicode_READ_CHAR(term, 0);
    if (PyObject_GC_IsTracked(delims)) untrack_delimiters(delims);
    return (PyObject *)o;
}

/* A Segment the walker let go of while nothing else held it (most segments of an 835's claims: their
   values are taken and the segment dropped), emptied and kept for the splitter's next segment, as
   CPython's zip() reuses its result tuple: one allocation and one deallocation less per segment. */
static PyObject *spare_seg;

static void release_segment(PyObject *seg) {
    if (seg == NULL) return;
    if (spare_seg == NULL && Py_REFCNT(seg) == 1 && PyTuple_Check(seg) && PyTuple_GET_SIZE(seg) == 4 &&
        !PyTuple_CheckExact(seg) && !PyObject_GC_IsTracked(seg)) {
        for (int k = 0; k < 4; k++) {
            PyObject *item = PyTuple_GET_ITEM(seg, k);
            PyTuple_SET_ITEM(seg, k, NULL);
            Py_XDECREF(item);
        }
        if (spare_seg == NULL && Py_REFCNT(seg) == 1) { /* (freeing the items ran no code that took it) */
            spare_seg = seg;
            return;
        }
    }
    Py_DECREF(seg);
}

static PyObject *splitter_next(SplitterObject *o) {
    PyObject *buf = o->buf, *ws = o->ws;
    int kind = PyUnicode_KIND(buf);
    const void *data = PyUnicode_DATA(buf);
    Py_UCS4 c = PyUnicode_READ_CHAR(o->sep, 0);
    int ascii = PyUnicode_IS_ASCII(buf) && c < 128;
    while (o->pos < o->end) {
        Py_ssize_t a = o->pos, t, b, next;
        if (ascii) {
            const Py_UCS1 *p = memchr((const Py_UCS1 *)data + a, (int)o->term, (size_t)(o->end - a));
            t = p == NULL ? -1 : p - (const Py_UCS1 *)data;
        } else {
            t = PyUnicode_FindChar(buf, o->term, a, o->end, 1);
            if (t == -2) return NULL;
        }
        b = t < 0 ? o->end : t;
        next = t < 0 ? o->end : t + 1;
        /* part.strip(ws) */
        while (a < b && maybe_layout(PyUnicode_READ(kind, data, a)) && contains_char(ws, PyUnicode_READ(kind, data, a))) a++;
        while (b > a && maybe_layout(PyUnicode_READ(kind, data, b - 1)) && contains_char(ws, PyUnicode_READ(kind, data, b - 1))) b--;
        if (a == b) {
            o->pos = next;
            continue;
        }
        /* an ISA-like id ("ISA", or "ISA" and a character that is not alphanumeric): the Python loop reads
           its delimiters; pos stays at the segment's start */
        if (b - a >= 3 && PyUnicode_READ(kind, data, a) == 'I' && PyUnicode_READ(kind, data, a + 1) == 'S' &&
            PyUnicode_READ(kind, data, a + 2) == 'A' && (b - a == 3 || !Py_UNICODE_ISALNUM(PyUnicode_READ(kind, data, a + 3))))
            return NULL;
        PyObject *els = ascii ? split_span((const Py_UCS1 *)data + a, b - a, (Py_UCS1)c) : NULL;
        if (els == NULL) {
            if (PyErr_Occurred()) return NULL;
            PyObject *part = PyUnicode_Substring(buf, a, b);
            if (part == NULL) return NULL;
            els = PyUnicode_Split(part, o->sep, -1);
            Py_DECREF(part);
            if (els == NULL) return NULL;
        }
        PyObject *sid = PyList_GET_ITEM(els, 0);
        o->pos = next;
        o->index++;
        PyObject *items[4];
        items[0] = PyLong_FromSsize_t(o->index);
        if (items[0] == NULL) {
            Py_DECREF(els);
            return NULL;
        }
        items[1] = Py_NewRef(sid);
        Py_SETREF(o->sid, Py_NewRef(sid));
        /* the element list holds only str and the segment only the index, the id, that list and the
           delimiters: neither can be part of a cycle, so the cyclic GC need not walk them (2 objects a
           segment, millions in a large file) */
        PyObject_GC_UnTrack(els);
        items[2] = els;
        items[3] = Py_NewRef(o->delims);
        if (spare_seg != NULL && Py_IS_TYPE(spare_seg, o->segtype) && !PyObject_GC_IsTracked(o->delims)) {
            PyObject *seg = spare_seg; /* the walker's last segment, which nothing else held (see release_segment) */
            spare_seg = NULL;
            for (int k = 0; k < 4; k++) PyTuple_SET_ITEM(seg, k, items[k]);
            return seg;
        }
        PyObject *seg = new_tuple_of(o->segtype, items, 4);
        if (seg != NULL && !PyObject_GC_IsTracked(o->delims)) PyObject_GC_UnTrack(seg);
        return seg;
    }
    return NULL;
}

static PyMemberDef splitter_members[] = {
    {"pos", T_PYSSIZET, offsetof(SplitterObject, pos), READONLY, "where it stopped in buf"},
    {"index", T_PYSSIZET, offsetof(SplitterObject, index), READONLY, "the last segment index"},
    {"sid", T_OBJECT, offsetof(SplitterObject, sid), READONLY, "the last segment id"},
    {NULL},
};

static PyTypeObject SplitterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.x12._fast.Splitter",
    .tp_basicsize = sizeof(SplitterObject),
    .tp_dealloc = (destructor)splitter_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)splitter_next,
    .tp_members = splitter_members,
    .tp_new = splitter_new,
    .tp_doc = "Splitter(buf, pos, end, term, ws, sep, delims, index, Segment): tokenize.py's loop up to an ISA",
};

/* ------------------------------------------------------------------------------------------------ */
/* Check: guide.py's ``ok`` (would the element check report nothing?) as data                     */
/* ------------------------------------------------------------------------------------------------ */
enum { T_AN = 0, T_R = 1, T_N = 2, T_DT8 = 3, T_DT6 = 4, T_TM = 5, T_ANY = 6, T_FALSE = 7 };

typedef struct {
    int kind, lo, hi, codes_only;
    PyObject *codes; /* frozenset or NULL */
} ValTest;

typedef struct {
    int pos, required, ncomps, multi;
    ValTest test;          /* a simple element */
    int *comp_pos;         /* composite: component index j */
    int *comp_required;
    ValTest *comp_tests;
} ElemCheck;

typedef struct {
    PyObject_HEAD
    int max_n, need, dtp, nspecs;
    ElemCheck *specs;
} CheckObject;

static void check_dealloc(CheckObject *c) {
    for (int i = 0; i < c->nspecs; i++) {
        ElemCheck *e = &c->specs[i];
        Py_XDECREF(e->test.codes);
        for (int j = 0; j < e->ncomps; j++) Py_XDECREF(e->comp_tests[j].codes);
        PyMem_Free(e->comp_pos);
        PyMem_Free(e->comp_required);
        PyMem_Free(e->comp_tests);
    }
    PyMem_Free(c->specs);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static int parse_test(PyObject *t, ValTest *out) {
    /* (kind, lo, hi, codes or None, codes_only) */
    PyObject *codes;
    if (!PyArg_ParseTuple(t, "iiiOi", &out->kind, &out->lo, &out->hi, &codes, &out->codes_only)) return -1;
    if (codes != Py_None) {
        if (!PyFrozenSet_Check(codes)) {
            PyErr_SetString(PyExc_TypeError, "codes must be a frozenset");
            return -1;
        }
        Py_INCREF(codes);
        out->codes = codes;
    } else {
        out->codes = NULL;
    }
    return 0;
}

static PyObject *check_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    int max_n, need, dtp;
    PyObject *specs;
    if (!PyArg_ParseTuple(args, "iiiO!", &max_n, &need, &dtp, &PyTuple_Type, &specs)) return NULL;
    CheckObject *c = (CheckObject *)type->tp_alloc(type, 0);
    if (c == NULL) return NULL;
    c->max_n = max_n;
    c->need = need;
    c->dtp = dtp;
    Py_ssize_t n = PyTuple_GET_SIZE(specs);
    c->specs = PyMem_Calloc(n ? n : 1, sizeof(ElemCheck));
    if (c->specs == NULL) {
        Py_DECREF(c);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        /* (pos, required, test or None, comps or None); comps = (multi, ((j, required, test), ...)) */
        ElemCheck *e = &c->specs[i];
        PyObject *test, *comps;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(specs, i), "iiOO", &e->pos, &e->required, &test, &comps)) goto fail;
        c->nspecs = (int)i + 1;
        if (comps == Py_None) {
            if (parse_test(test, &e->test) < 0) goto fail;
            continue;
        }
        PyObject *items;
        if (!PyArg_ParseTuple(comps, "iO!", &e->multi, &PyTuple_Type, &items)) goto fail;
        Py_ssize_t k = PyTuple_GET_SIZE(items);
        e->comp_pos = PyMem_Calloc(k ? k : 1, sizeof(int));
        e->comp_required = PyMem_Calloc(k ? k : 1, sizeof(int));
        e->comp_tests = PyMem_Calloc(k ? k : 1, sizeof(ValTest));
        if (!e->comp_pos || !e->comp_required || !e->comp_tests) {
            PyErr_NoMemory();
            goto fail;
        }
        e->ncomps = (int)k;
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *ct;
            if (!PyArg_ParseTuple(PyTuple_GET_ITEM(items, j), "iiO", &e->comp_pos[j], &e->comp_required[j], &ct))
                goto fail;
            if (parse_test(ct, &e->comp_tests[j]) < 0) goto fail;
        }
        e->ncomps = (int)k;
        e->test.kind = -1;
    }
    return (PyObject *)c;
fail:
    Py_DECREF(c);
    return NULL;
}

/* ASCII digits only: a non-ASCII digit (which str.isdigit accepts) makes the test answer False, and
   the walker's full check decides (so the answer is never True where Python's check would object) */
static int all_digits(const Py_UCS1 *s, Py_ssize_t n) {
    if (n == 0) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9') return 0;
    return 1;
}

static const int DAYS[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int mmdd_ok(const Py_UCS1 *s, int leap_year_known, long year) {
    /* s: 4 ASCII digits MMDD (checked digits); x in MMDD and (x != '0229' or year % 4 == 0) */
    int m = (s[0] - '0') * 10 + (s[1] - '0');
    int d = (s[2] - '0') * 10 + (s[3] - '0');
    if (m < 1 || m > 12 || d < 1 || d > DAYS[m]) return 0;
    if (m == 2 && d == 29 && leap_year_known && (year % 4)) return 0;
    return 1;
}

static int d8_ok(const Py_UCS1 *s, Py_ssize_t n) {
    if (n != 8 || !all_digits(s, 8)) return 0;
    long year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    return mmdd_ok(s + 4, 1, year);
}

/* 1: fine, 0: not fine (let Python decide), -1: error */
static int value_ok(const ValTest *t, PyObject *v) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(v);
    switch (t->kind) {
    case T_AN:
        if (t->codes != NULL && t->codes_only) {
            return PySet_Contains(t->codes, v);
        }
        if (t->lo <= 1 ? n > t->hi : (n < t->lo || n > t->hi)) return 0;
        if (t->codes != NULL) return PySet_Contains(t->codes, v);
        return 1;
    case T_ANY:
        return 1;
    case T_FALSE:
        return 0;
    default:
        break;
    }
    if (!PyUnicode_IS_ASCII(v)) return 0;
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(v);
    switch (t->kind) {
    case T_R: {
        /* (len(v) <= hi and v.replace('.', '', 1).isdigit()) or
           ((x := v.lstrip('-').replace('.', '', 1)).isdigit() and len(x) <= hi) */
        Py_ssize_t a = 0;
        while (a < n && s[a] == '-') a++;
        Py_ssize_t digits = 0, dots = 0;
        for (Py_ssize_t i = a; i < n; i++) {
            if (s[i] == '.') {
                if (++dots > 1) return 0;
            } else if (s[i] >= '0' && s[i] <= '9') {
                digits++;
            } else {
                return 0;
            }
        }
        if (digits == 0) return 0;
        if (a == 0) return n <= t->hi || digits <= t->hi;
        return digits <= t->hi;
    }
    case T_N: {
        Py_ssize_t a = 0;
        while (a < n && s[a] == '-') a++;
        if (!all_digits(s + a, n - a)) return 0;
        return n - a <= t->hi;
    }
    case T_DT8:
        return d8_ok(s, n);
    case T_DT6: {
        if (n != 6 || !all_digits(s, 6)) return 0;
        long year = (s[0] - '0') * 10 + (s[1] - '0');
        return mmdd_ok(s + 2, 1, year);
    }
    case T_TM:
        if (!(n == 4 || n == 6 || n == 7 || n == 8) || !all_digits(s, n)) return 0;
        if (s[0] > '2' || (s[0] == '2' && s[1] >= '4')) return 0;
        if (s[2] >= '6') return 0;
        return 1;
    }
    return 0;
}

static PyObject *foreign_fn; /* walk._foreign_separator */

/* 1: the element check would report nothing; 0: run the full check; -1: error */
static int check_run(CheckObject *c, PyObject *e, PyObject *delims) {
    Py_ssize_t n = PyList_GET_SIZE(e);
    if (n > c->max_n || n < c->need) return 0;
    if (c->dtp && n > 3) {
        PyObject *f = PyList_GET_ITEM(e, 2), *v = PyList_GET_ITEM(e, 3);
        if (!PyUnicode_IS_ASCII(f) || !PyUnicode_IS_ASCII(v)) {
            /* only 'D8' / 'RD8' (ASCII) are checked; a non-ASCII value under them fails the check */
            if (PyUnicode_IS_ASCII(f)) {
                const char *fs = (const char *)PyUnicode_1BYTE_DATA(f);
                if (strcmp(fs, "D8") == 0 || strcmp(fs, "RD8") == 0) return 0;
            }
        } else {
            const char *fs = (const char *)PyUnicode_1BYTE_DATA(f);
            const Py_UCS1 *vs = PyUnicode_1BYTE_DATA(v);
            Py_ssize_t vn = PyUnicode_GET_LENGTH(v);
            if (strcmp(fs, "D8") == 0 && PyUnicode_GET_LENGTH(f) == 2) {
                if (!d8_ok(vs, vn)) return 0;
            } else if (strcmp(fs, "RD8") == 0 && PyUnicode_GET_LENGTH(f) == 3) {
                if (vn != 17 || vs[8] != '-' || memcmp(vs, vs + 9, 8) > 0) return 0;
                if (!d8_ok(vs, 8) || !d8_ok(vs + 9, 8)) return 0;
            }
        }
    }
    for (int k = 0; k < c->nspecs; k++) {
        ElemCheck *s = &c->specs[k];
        int i = s->pos;
        if (i >= c->need && n <= i) return 1;
        PyObject *v = PyList_GET_ITEM(e, i);
        if (!PyUnicode_Check(v)) return 0;
        Py_ssize_t vn = PyUnicode_GET_LENGTH(v);
        if (vn == 0) {
            if (s->required) return 0;
            continue;
        }
        if (s->ncomps == 0 && s->test.kind >= 0) {
            int r = value_ok(&s->test, v);
            if (r <= 0) return r;
            continue;
        }
        /* composite */
        PyObject *comp = PyObject_GetAttr(delims, S_component);
        if (comp == NULL) return -1;
        PyObject *p;
        int has = PyUnicode_Contains(v, comp);
        if (has < 0) {
            Py_DECREF(comp);
            return -1;
        }
        if (has) {
            p = PyUnicode_Split(v, comp, -1);
        } else {
            if (s->multi) {
                PyObject *fr = PyObject_CallFunctionObjArgs(foreign_fn, v, delims, NULL);
                if (fr == NULL) {
                    Py_DECREF(comp);
                    return -1;
                }
                int truth = PyObject_IsTrue(fr);
                Py_DECREF(fr);
                if (truth) {
                    Py_DECREF(comp);
                    return truth < 0 ? -1 : 0;
                }
            }
            p = PyList_New(1);
            if (p != NULL) {
                Py_INCREF(v);
                PyList_SET_ITEM(p, 0, v);
            }
        }
        Py_DECREF(comp);
        if (p == NULL) return -1;
        Py_ssize_t kk = PyList_GET_SIZE(p);
        for (int j = 0; j < s->ncomps; j++) {
            int pj = s->comp_pos[j];
            PyObject *cv = pj < kk ? PyList_GET_ITEM(p, pj) : S_empty;
            if (PyUnicode_GET_LENGTH(cv) == 0) {
                if (s->comp_required[j]) {
                    Py_DECREF(p);
                    return 0;
                }
                continue;
            }
            int r = value_ok(&s->comp_tests[j], cv);
            if (r <= 0) {
                Py_DECREF(p);
                return r;
            }
        }
        Py_DECREF(p);
    }
    return 1;
}

static PyObject *check_call(CheckObject *c, PyObject *args, PyObject *kw) {
    PyObject *e, *d;
    if (!PyArg_ParseTuple(args, "O!O", &PyList_Type, &e, &d)) return NULL;
    int r = check_run(c, e, d);
    if (r < 0) return NULL;
    return PyBool_FromLong(r);
}

static PyTypeObject CheckType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.x12._fast.Check",
    .tp_basicsize = sizeof(CheckObject),
    .tp_dealloc = (destructor)check_dealloc,
    .tp_call = (ternaryfunc)check_call,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = check_new,
    .tp_doc = "Check(max_n, need, dtp, specs)(elements, delimiters) -> bool: guide.py's ok() as data",
};

/* ------------------------------------------------------------------------------------------------ */
/* Walker: _Walker.run's fast path                                                                 */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    PyObject_HEAD
    PyObject *walker;   /* the Python _Walker */
    PyObject *it;       /* iterator of Segment */
    PyTypeObject *walked;
    PyObject *envelope; /* frozenset of envelope ids */
    PyObject *stack;    /* walker.stack (refreshed after every call into Python) */
    PyObject *last;     /* the last segment */
    PyObject *pending;  /* an SE (or cut-off envelope) whose close_st runs at the next step, as in run() */
    PyObject *sink;     /* a Claims835 taking the segments of loops 2100/2110 (read.py sets it), or NULL */
    int routed;         /* make_walked's loop kind for the sink (1: 2110, 2: 2100) */
    int in_st, done;
} WalkerObject;

static void walker_dealloc(WalkerObject *w) {
    PyObject_GC_UnTrack(w);
    Py_XDECREF(w->walker);
    Py_XDECREF(w->it);
    Py_XDECREF(w->walked);
    Py_XDECREF(w->envelope);
    Py_XDECREF(w->stack);
    Py_XDECREF(w->last);
    Py_XDECREF(w->pending);
    Py_XDECREF(w->sink);
    PyObject_GC_Del(w);
}

static int walker_traverse(WalkerObject *w, visitproc visit, void *arg) {
    Py_VISIT(w->walker);
    Py_VISIT(w->it);
    Py_VISIT(w->walked);
    Py_VISIT(w->envelope);
    Py_VISIT(w->stack);
    Py_VISIT(w->last);
    Py_VISIT(w->pending);
    Py_VISIT(w->sink);
    return 0;
}

static int walker_refresh(WalkerObject *w) {
    PyObject *stack = PyObject_GetAttr(w->walker, S_stack);
    if (stack == NULL) return -1;
    if (!PyList_Check(stack)) {
        Py_DECREF(stack);
        PyErr_SetString(PyExc_TypeError, "walker.stack must be a list");
        return -1;
    }
    Py_XSETREF(w->stack, stack);
    PyObject *st = PyObject_GetAttr(w->walker, S_st);
    if (st == NULL) return -1;
    w->in_st = st != Py_None;
    Py_DECREF(st);
    return 0;
}

static PyObject *walker_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    PyObject *walker, *segments, *envelope;
    PyTypeObject *walked;
    if (!PyArg_ParseTuple(args, "OOO!O!", &walker, &segments, &PyType_Type, &walked, &PyFrozenSet_Type, &envelope))
        return NULL;
    PyObject *it = PyObject_GetIter(segments);
    if (it == NULL) return NULL;
    WalkerObject *w = PyObject_GC_New(WalkerObject, type);
    if (w == NULL) {
        Py_DECREF(it);
        return NULL;
    }
    Py_INCREF(walker);
    w->walker = walker;
    w->it = it;
    Py_INCREF(walked);
    w->walked = walked;
    Py_INCREF(envelope);
    w->envelope = envelope;
    w->stack = NULL;
    w->last = NULL;
    w->pending = NULL;
    w->sink = NULL;
    w->routed = 0;
    w->in_st = 0;
    w->done = 0;
    PyObject_GC_Track(w);
    if (walker_refresh(w) < 0) {
        Py_DECREF(w);
        return NULL;
    }
    return (PyObject *)w;
}

static int loop_kind(PyObject *loop);

/* The guide's element check of a walked segment: the compiled Check when the entry has one, else the
   entry's Python check function; a segment that fails it goes to the walker's check_elements, which
   words the findings and errors. 0 on success, -1 with an exception set. */
static int check_segment_elements(WalkerObject *w, PyObject *chk, PyObject *fn, PyObject *seg, PyObject *node) {
    PyObject *el = PyTuple_GET_ITEM(seg, 2);
    int ok;
    if (Py_IS_TYPE(chk, &CheckType)) {
        ok = check_run((CheckObject *)chk, el, PyTuple_GET_ITEM(seg, 3));
    } else {
        PyObject *r = PyObject_CallFunctionObjArgs(fn, el, PyTuple_GET_ITEM(seg, 3), NULL);
        if (r == NULL) return -1;
        ok = PyObject_IsTrue(r);
        Py_DECREF(r);
    }
    if (ok < 0) return -1;
    if (!ok) {
        PyObject *r = PyObject_CallMethodObjArgs(w->walker, S_check_elements, seg, node, NULL);
        if (r == NULL) return -1;
        Py_DECREF(r);
    }
    return 0;
}

static PyObject *make_walked(WalkerObject *w, PyObject *loop, PyObject *seg) {
    /* steals loop; with a sink, a segment of loop 2100/2110 gives None (walker_next routes it) and
       w->routed says which loop */
    if (loop == NULL) return NULL;
    if (w->sink != NULL && loop != Py_None) {
        int k = loop_kind(loop);
        if (k) {
            Py_DECREF(loop);
            w->routed = k;
            return Py_NewRef(Py_None);
        }
    }
    PyObject *items[2];
    items[0] = loop;
    Py_INCREF(seg);
    items[1] = seg;
    return new_tuple_of(w->walked, items, 2);
}

static PyObject *walker_slow(WalkerObject *w, PyObject *name, PyObject *seg, PyObject *found) {
    /* walker.step(seg) (envelopes) or walker.seek(seg, sid, found); returns a Walked */
    PyObject *loop;
    if (found == NULL) {
        loop = PyObject_CallMethodOneArg(w->walker, name, seg);
    } else {
        PyObject *sid = PyTuple_GET_ITEM(seg, 1);
        loop = PyObject_CallMethodObjArgs(w->walker, name, seg, sid, found, NULL);
    }
    if (loop == NULL) return NULL;
    if (walker_refresh(w) < 0) {
        Py_DECREF(loop);
        return NULL;
    }
    return make_walked(w, loop, seg);
}

/* _Walker.enter for an entry whose plan (entry[9]) says it is plain: no implied loop, not HL, no identifier
   check; anything else (and a loop over its repeat count) is entered by the Python method */
static PyObject *walker_enter(WalkerObject *w, PyObject *seg, Py_ssize_t level, PyObject *entry) {
    PyObject *stack = w->stack;
    PyObject *plan = PyTuple_GET_SIZE(entry) > 9 ? PyTuple_GET_ITEM(entry, 9) : Py_None;
    int python = plan == Py_None;
    Py_ssize_t nloops = python ? 0 : PyTuple_GET_SIZE(plan);
    if (!python && nloops > 0) {
        PyObject *loop0 = PyTuple_GET_ITEM(plan, 0);
        PyObject *rep = PyObject_GetAttr(loop0, S_repeat_attr);
        if (rep == NULL) return NULL;
        long repeat = PyLong_AsLong(rep);
        Py_DECREF(rep);
        if (repeat) {
            PyObject *counts = PyList_GET_ITEM(PyList_GET_ITEM(stack, level), 2);
            PyObject *old = PyDict_GetItemWithError(counts, loop0);
            if (old == NULL && PyErr_Occurred()) return NULL;
            if ((old ? PyLong_AsLong(old) : 0) + 1 > repeat) python = 1; /* the Python method words it */
        }
    }
    if (python) {
        PyObject *lv = PyLong_FromSsize_t(level);
        if (lv == NULL) return NULL;
        PyObject *loop = PyObject_CallMethodObjArgs(w->walker, S_enter, seg, lv, PyTuple_GET_ITEM(entry, 6), NULL);
        Py_DECREF(lv);
        if (loop == NULL) return NULL;
        if (walker_refresh(w) < 0) {
            Py_DECREF(loop);
            return NULL;
        }
        return make_walked(w, loop, seg);
    }
    Py_INCREF(entry);
    PyObject *frame = NULL;
    /* close the loops above ``level`` */
    while (PyList_GET_SIZE(stack) > level + 1) {
        Py_ssize_t last = PyList_GET_SIZE(stack) - 1;
        PyObject *done = Py_NewRef(PyList_GET_ITEM(stack, last));
        if (PyList_SetSlice(stack, last, last + 1, NULL) < 0) {
            Py_DECREF(done);
            goto fail;
        }
        PyObject *must = PyObject_GetAttr(PyList_GET_ITEM(done, 0), S_must);
        if (must == NULL) {
            Py_DECREF(done);
            goto fail;
        }
        PyObject *counts = PyList_GET_ITEM(done, 2);
        Py_ssize_t nm = PyTuple_GET_SIZE(must);
        int rc = 0;
        for (Py_ssize_t i = 0; i < nm; i++) {
            int has = PyDict_Contains(counts, PyTuple_GET_ITEM(must, i));
            if (has < 0) {
                rc = -1;
                break;
            }
            if (!has) {
                PyObject *r = PyObject_CallMethodObjArgs(w->walker, S_close_frame, done, seg, NULL);
                if (r == NULL) rc = -1;
                Py_XDECREF(r);
                break;
            }
        }
        Py_DECREF(must);
        Py_DECREF(done);
        if (rc < 0) goto fail;
    }
    frame = Py_NewRef(PyList_GET_ITEM(stack, level));
    if (PyList_SetItem(frame, 1, Py_NewRef(PyTuple_GET_ITEM(entry, 0))) < 0) goto fail;
    for (Py_ssize_t i = 0; i < nloops; i++) {
        PyObject *loop = PyTuple_GET_ITEM(plan, i);
        PyObject *counts = PyList_GET_ITEM(frame, 2);
        PyObject *old = PyDict_GetItemWithError(counts, loop);
        if (old == NULL && PyErr_Occurred()) goto fail;
        PyObject *nobj = PyLong_FromLong((old ? PyLong_AsLong(old) : 0) + 1);
        if (nobj == NULL) goto fail;
        int rc = PyDict_SetItem(counts, loop, nobj);
        Py_DECREF(nobj);
        if (rc < 0) goto fail;
        PyObject *fast = PyObject_GetAttr(loop, S_fast);
        if (fast == NULL) goto fail;
        PyObject *nf = PyList_New(4);
        PyObject *nc = PyDict_New();
        PyObject *minus = PyLong_FromLong(-1);
        if (nf == NULL || nc == NULL || minus == NULL) {
            Py_XDECREF(nf);
            Py_XDECREF(nc);
            Py_XDECREF(minus);
            Py_DECREF(fast);
            goto fail;
        }
        PyList_SET_ITEM(nf, 0, Py_NewRef(loop));
        PyList_SET_ITEM(nf, 1, minus);
        PyList_SET_ITEM(nf, 2, nc);
        PyList_SET_ITEM(nf, 3, fast);
        rc = PyList_Append(stack, nf);
        Py_SETREF(frame, nf);
        if (rc < 0) goto fail;
    }
    PyObject *node = PyTuple_GET_ITEM(entry, 2);
    if (PyList_SetItem(frame, 1, Py_NewRef(PyTuple_GET_ITEM(entry, 3))) < 0) goto fail;
    {
        PyObject *counts = PyList_GET_ITEM(frame, 2);
        PyObject *old = PyDict_GetItemWithError(counts, node);
        if (old == NULL && PyErr_Occurred()) goto fail;
        long n = (old ? PyLong_AsLong(old) : 0) + 1;
        PyObject *nobj = PyLong_FromLong(n);
        if (nobj == NULL) goto fail;
        int rc = PyDict_SetItem(counts, node, nobj);
        long max_use = PyLong_AsLong(PyTuple_GET_ITEM(entry, 4));
        if (rc == 0 && max_use && n > max_use) {
            PyObject *r = PyObject_CallMethodObjArgs(w->walker, S_repeat, seg, node, nobj, frame, NULL);
            if (r == NULL) rc = -1;
            Py_XDECREF(r);
        }
        Py_DECREF(nobj);
        if (rc < 0) goto fail;
    }
    if (check_segment_elements(w, PyTuple_GET_ITEM(entry, 8), PyTuple_GET_ITEM(entry, 5), seg, node) < 0) goto fail;
    {
        PyObject *loop = Py_NewRef(PyTuple_GET_ITEM(entry, 7));
        Py_DECREF(frame);
        Py_DECREF(entry);
        return make_walked(w, loop, seg);
    }
fail:
    Py_XDECREF(frame);
    Py_DECREF(entry);
    return NULL;
}

/* the candidates of ``sid`` in ``frame`` by qualifier value (the fast table), first at or after the frame's
   position: *found (borrowed) or Py_None; -1 on error */
static int find_in_frame(PyObject *frame, PyObject *seg, PyObject *sid, PyObject **found) {
    *found = Py_None;
    PyObject *m = PyDict_GetItemWithError(PyList_GET_ITEM(frame, 3), sid);
    if (m == NULL) return PyErr_Occurred() ? -1 : 0;
    PyObject *el = PyTuple_GET_ITEM(seg, 2);
    Py_ssize_t qi = PyLong_AsSsize_t(PyTuple_GET_ITEM(m, 0));
    PyObject *cands;
    if (qi) {
        PyObject *v = Py_NewRef(qi < PyList_GET_SIZE(el) ? PyList_GET_ITEM(el, qi) : S_empty);
        if (PyObject_IsTrue(PyTuple_GET_ITEM(m, 1))) {
            PyObject *d = PyTuple_GET_ITEM(seg, 3);
            PyObject *comp = PyObject_GetAttr(d, S_component);
            if (comp == NULL) {
                Py_DECREF(v);
                return -1;
            }
            int has = PyUnicode_Contains(v, comp);
            if (has < 0) {
                Py_DECREF(v);
                Py_DECREF(comp);
                return -1;
            }
            if (!has) {
                PyObject *other = PyObject_CallFunctionObjArgs(foreign_fn, v, d, NULL);
                if (other == NULL) {
                    Py_DECREF(v);
                    Py_DECREF(comp);
                    return -1;
                }
                if (PyUnicode_Check(other) && PyUnicode_GET_LENGTH(other) > 0) Py_SETREF(comp, other);
                else Py_DECREF(other);
            }
            Py_ssize_t pos = PyUnicode_Find(v, comp, 0, PyUnicode_GET_LENGTH(v), 1);
            Py_DECREF(comp);
            if (pos == -2) {
                Py_DECREF(v);
                return -1;
            }
            if (pos >= 0) {
                PyObject *head = PyUnicode_Substring(v, 0, pos);
                Py_DECREF(v);
                if (head == NULL) return -1;
                v = head;
            }
        }
        cands = PyDict_GetItemWithError(PyTuple_GET_ITEM(m, 2), v);
        Py_DECREF(v);
        if (cands == NULL) {
            if (PyErr_Occurred()) return -1;
            cands = PyTuple_GET_ITEM(m, 3);
        }
    } else {
        cands = PyTuple_GET_ITEM(m, 3);
    }
    long cur = PyLong_AsLong(PyList_GET_ITEM(frame, 1));
    Py_ssize_t nc = PyTuple_GET_SIZE(cands);
    for (Py_ssize_t k = 0; k < nc; k++) {
        PyObject *c = PyTuple_GET_ITEM(cands, k);
        if (PyLong_AsLong(PyTuple_GET_ITEM(c, 0)) >= cur) {
            *found = c;
            break;
        }
    }
    return 0;
}

/* _Walker.seek: ``found`` is the innermost loop's entry (or None) */
static PyObject *walker_seek(WalkerObject *w, PyObject *seg, PyObject *found) {
    Py_ssize_t level = PyList_GET_SIZE(w->stack) - 1;
    if (found != Py_None) return walker_enter(w, seg, level, found);
    PyObject *sid = PyTuple_GET_ITEM(seg, 1);
    for (level--; level >= 0; level--) {
        PyObject *c;
        if (find_in_frame(PyList_GET_ITEM(w->stack, level), seg, sid, &c) < 0) return NULL;
        if (c != Py_None) return walker_enter(w, seg, level, c);
    }
    return walker_slow(w, S_seek, seg, Py_None); /* not placed by qualifier anywhere: place() words it */
}

static PyObject *walker_step(WalkerObject *w) {
    if (w->done) return NULL;
    if (w->pending != NULL) {
        PyObject *se = w->pending;
        w->pending = NULL;
        PyObject *r = PyObject_CallMethodOneArg(w->walker, S_close_st, se);
        Py_DECREF(se);
        if (r == NULL) return NULL;
        Py_DECREF(r);
        if (walker_refresh(w) < 0) return NULL;
    }
    PyObject *seg = PyIter_Next(w->it);
    if (seg == NULL) {
        if (PyErr_Occurred()) return NULL;
        w->done = 1;
        PyObject *r = PyObject_CallMethodOneArg(w->walker, S_end, w->last ? w->last : Py_None);
        if (r == NULL) return NULL;
        Py_DECREF(r);
        return NULL;
    }
    PyObject *old = w->last;
    w->last = seg; /* owns seg; borrowed below */
    release_segment(old);
    if (!PyTuple_Check(seg) || PyTuple_GET_SIZE(seg) != 4) {
        PyErr_SetString(PyExc_TypeError, "a Segment is expected");
        return NULL;
    }
    if (!w->in_st) return walker_slow(w, S_step, seg, NULL);
    PyObject *sid = PyTuple_GET_ITEM(seg, 1);
    int env = PySet_Contains(w->envelope, sid);
    if (env < 0) return NULL;
    if (env) {
        PyObject *r = walker_slow(w, S_end_st, seg, NULL);
        if (r != NULL) w->pending = Py_NewRef(seg);
        return r;
    }
    Py_ssize_t depth = PyList_GET_SIZE(w->stack);
    if (depth == 0) return walker_slow(w, S_step, seg, NULL);
    PyObject *frame = PyList_GET_ITEM(w->stack, depth - 1);
    PyObject *fast = PyList_GET_ITEM(frame, 3);
    PyObject *m = PyDict_GetItemWithError(fast, sid);
    PyObject *found = Py_None;
    PyObject *el = PyTuple_GET_ITEM(seg, 2);
    if (!PyList_Check(el)) {
        PyErr_SetString(PyExc_TypeError, "Segment.elements must be a list");
        return NULL;
    }
    if (m == NULL) {
        if (PyErr_Occurred()) return NULL;
    } else {
        Py_ssize_t qi = PyLong_AsSsize_t(PyTuple_GET_ITEM(m, 0));
        PyObject *cands;
        if (qi) {
            PyObject *v = qi < PyList_GET_SIZE(el) ? PyList_GET_ITEM(el, qi) : S_empty;
            Py_INCREF(v);
            if (PyObject_IsTrue(PyTuple_GET_ITEM(m, 1))) {
                PyObject *d = PyTuple_GET_ITEM(seg, 3);
                PyObject *comp = PyObject_GetAttr(d, S_component);
                if (comp == NULL) {
                    Py_DECREF(v);
                    return NULL;
                }
                int has = PyUnicode_Contains(v, comp);
                if (has < 0) {
                    Py_DECREF(v);
                    Py_DECREF(comp);
                    return NULL;
                }
                if (!has) {
                    PyObject *other = PyObject_CallFunctionObjArgs(foreign_fn, v, d, NULL);
                    if (other == NULL) {
                        Py_DECREF(v);
                        Py_DECREF(comp);
                        return NULL;
                    }
                    if (PyUnicode_Check(other) && PyUnicode_GET_LENGTH(other) > 0) {
                        Py_SETREF(comp, other);
                    } else {
                        Py_DECREF(other);
                    }
                }
                Py_ssize_t pos = PyUnicode_Find(v, comp, 0, PyUnicode_GET_LENGTH(v), 1);
                Py_DECREF(comp);
                if (pos == -2) {
                    Py_DECREF(v);
                    return NULL;
                }
                if (pos >= 0) {
                    PyObject *head = PyUnicode_Substring(v, 0, pos);
                    Py_DECREF(v);
                    if (head == NULL) return NULL;
                    v = head;
                }
            }
            cands = PyDict_GetItemWithError(PyTuple_GET_ITEM(m, 2), v);
            Py_DECREF(v);
            if (cands == NULL) {
                if (PyErr_Occurred()) return NULL;
                cands = PyTuple_GET_ITEM(m, 3);
            }
        } else {
            cands = PyTuple_GET_ITEM(m, 3);
        }
        long cur = PyLong_AsLong(PyList_GET_ITEM(frame, 1));
        Py_ssize_t nc = PyTuple_GET_SIZE(cands);
        for (Py_ssize_t k = 0; k < nc; k++) {
            PyObject *c = PyTuple_GET_ITEM(cands, k);
            if (PyLong_AsLong(PyTuple_GET_ITEM(c, 0)) >= cur) {
                found = c;
                break;
            }
        }
    }
    if (found == Py_None || PyTuple_GET_ITEM(found, 1) != Py_True) return walker_seek(w, seg, found);
    /* the segment stays in the innermost loop */
    PyObject *node = PyTuple_GET_ITEM(found, 2);
    Py_INCREF(found);  /* keep it alive while Python code runs below */
    if (PyList_SetItem(frame, 1, Py_NewRef(PyTuple_GET_ITEM(found, 3))) < 0) goto fail;
    PyObject *counts = PyList_GET_ITEM(frame, 2);
    long limit = PyLong_AsLong(PyTuple_GET_ITEM(found, 4));
    if (limit) {
        PyObject *old = PyDict_GetItemWithError(counts, node);
        long cnt;
        if (old == NULL) {
            if (PyErr_Occurred()) goto fail;
            cnt = 1;
        } else {
            cnt = PyLong_AsLong(old) + 1;
        }
        PyObject *nobj = PyLong_FromLong(cnt);
        if (nobj == NULL) goto fail;
        int rc = PyDict_SetItem(counts, node, nobj);
        if (rc < 0) {
            Py_DECREF(nobj);
            goto fail;
        }
        if (cnt > limit) {
            PyObject *r = PyObject_CallMethodObjArgs(w->walker, S_repeat, seg, node, nobj, frame, NULL);
            Py_DECREF(nobj);
            if (r == NULL) goto fail;
            Py_DECREF(r);
        } else {
            Py_DECREF(nobj);
        }
    } else {
        PyObject *one = PyLong_FromLong(1);
        int rc = PyDict_SetItem(counts, node, one);
        Py_DECREF(one);
        if (rc < 0) goto fail;
    }
    if (check_segment_elements(w, PyTuple_GET_SIZE(found) > 8 ? PyTuple_GET_ITEM(found, 8) : Py_None,
                               PyTuple_GET_ITEM(found, 5), seg, node) < 0)
        goto fail;
    {
        PyObject *loop = Py_NewRef(PyTuple_GET_ITEM(found, 7));
        Py_DECREF(found);
        return make_walked(w, loop, seg);
    }
fail:
    Py_DECREF(found);
    return NULL;
}

typedef struct ClaimsObject ClaimsObject;
static int claims_on(ClaimsObject *c, int is_line, PyObject *seg);
static PyObject *claims_out(ClaimsObject *c);

/* the next Walked; with a sink, the segments of loops 2100/2110 go to it instead, and a Walked with loop
   None stands for those after which the sink has records in ``out`` (so the reader yields them at once) */
static PyObject *walker_next(WalkerObject *w) {
    for (;;) {
        PyObject *walked = walker_step(w);
        if (walked != Py_None) return walked; /* a Walked, or NULL (the end or an error) */
        Py_DECREF(walked);
        PyObject *seg = w->last;
        PyObject *out = claims_out((ClaimsObject *)w->sink);
        Py_ssize_t before = PyList_GET_SIZE(out);
        if (claims_on((ClaimsObject *)w->sink, w->routed == 1, seg) < 0) return NULL;
        if (PyList_GET_SIZE(out) != before) {
            PyObject *items[2] = {Py_NewRef(Py_None), Py_NewRef(seg)};
            return new_tuple_of(w->walked, items, 2);
        }
    }
}

static PyObject *walker_get_sink(WalkerObject *w, void *closure) {
    return Py_NewRef(w->sink ? w->sink : Py_None);
}

static PyTypeObject ClaimsType;

static int walker_set_sink(WalkerObject *w, PyObject *v, void *closure) {
    if (v != NULL && v != Py_None && !Py_IS_TYPE(v, &ClaimsType)) {
        PyErr_SetString(PyExc_TypeError, "sink must be a Claims835 or None");
        return -1;
    }
    Py_XSETREF(w->sink, (v == NULL || v == Py_None) ? NULL : Py_NewRef(v));
    return 0;
}

static PyObject *walker_last(WalkerObject *w, void *closure) {
    return Py_NewRef(w->last ? w->last : Py_None);
}

static PyGetSetDef walker_getset[] = {
    {"last", (getter)walker_last, NULL, "the last segment read", NULL},
    {"sink", (getter)walker_get_sink, (setter)walker_set_sink, "a Claims835 for loops 2100/2110, or None", NULL},
    {NULL},
};

static PyTypeObject WalkerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.x12._fast.Walker",
    .tp_basicsize = sizeof(WalkerObject),
    .tp_dealloc = (destructor)walker_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)walker_traverse,
    .tp_iter = PyObject_SelfIter,
    .tp_iternext = (iternextfunc)walker_next,
    .tp_getset = walker_getset,
    .tp_new = walker_new,
    .tp_doc = "Walker(walker, segments, Walked, envelope_ids): walk.py's _Walker.run fast path",
};

/* ------------------------------------------------------------------------------------------------ */
/* Maker: build a frozen slotted dataclass by its slots (construct.py's maker, in C)                 */
/* ------------------------------------------------------------------------------------------------ */
#define MAX_FIELDS 32
typedef struct {
    PyTypeObject *type;
    int n;
    Py_ssize_t offset[MAX_FIELDS];
    PyObject *defaults[MAX_FIELDS]; /* NULL: required */
} Maker;

static int maker_init(Maker *m, PyObject *cls, PyObject *names, PyObject *defaults) {
    /* names: tuple of field names in order; defaults: tuple (same length), Ellipsis for required */
    if (!PyType_Check(cls) || !PyTuple_Check(names) || !PyTuple_Check(defaults) ||
        PyTuple_GET_SIZE(names) != PyTuple_GET_SIZE(defaults) || PyTuple_GET_SIZE(names) > MAX_FIELDS) {
        PyErr_SetString(PyExc_TypeError, "maker: a class, its field names and defaults");
        return -1;
    }
    m->type = (PyTypeObject *)Py_NewRef(cls);
    m->n = (int)PyTuple_GET_SIZE(names);
    for (int i = 0; i < m->n; i++) {
        PyObject *descr = PyDict_GetItemWithError(m->type->tp_dict, PyTuple_GET_ITEM(names, i));
        if (descr == NULL || !Py_IS_TYPE(descr, &PyMemberDescr_Type)) {
            if (!PyErr_Occurred()) PyErr_Format(PyExc_TypeError, "maker: %R is not a slot", PyTuple_GET_ITEM(names, i));
            return -1;
        }
        PyMemberDef *md = ((PyMemberDescrObject *)descr)->d_member;
        if (md->type != T_OBJECT_EX && md->type != T_OBJECT) {
            PyErr_SetString(PyExc_TypeError, "maker: an object slot is expected");
            return -1;
        }
        m->offset[i] = md->offset;
        PyObject *d = PyTuple_GET_ITEM(defaults, i);
        m->defaults[i] = d == Py_Ellipsis ? NULL : Py_NewRef(d);
    }
    return 0;
}

static void maker_clear(Maker *m) {
    if (m->type == NULL) return;
    for (int i = 0; i < m->n; i++) Py_XDECREF(m->defaults[i]);
    Py_CLEAR(m->type);
}

/* A tuple (or, in maker_build, a frozen record) that refers only to objects the cyclic GC does not track
   (str, Decimal, date, None, records and tuples already untracked) cannot be part of a cycle, so the GC
   need not track it either (CPython does the same for its own tuples, lazily). A large 835 makes millions
   of them; each one tracked counts toward the next collection, which walks every young one. */
static PyObject *untrack_leaf(PyObject *tuple) {
    if (tuple == NULL || !PyObject_GC_IsTracked(tuple)) return tuple;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(tuple); i++)
        if (PyObject_GC_IsTracked(PyTuple_GET_ITEM(tuple, i))) return tuple;
    PyObject_GC_UnTrack(tuple);
    return tuple;
}

/* vals[i] (stolen, NULL = the default) in field order */
static PyObject *maker_build(Maker *m, PyObject **vals) {
    PyObject *obj = m->type->tp_alloc(m->type, 0);
    for (int i = 0; i < m->n; i++) {
        PyObject *v = vals[i];
        if (v == NULL) v = Py_XNewRef(m->defaults[i]);
        if (obj == NULL || v == NULL) {
            Py_XDECREF(v);
            continue;
        }
        *(PyObject **)((char *)obj + m->offset[i]) = v;
    }
    if (obj != NULL) {
        for (int i = 0; i < m->n; i++) {
            if (*(PyObject **)((char *)obj + m->offset[i]) == NULL) {
                Py_DECREF(obj);
                PyErr_SetString(PyExc_TypeError, "maker: a required field is missing");
                return NULL;
            }
        }
        /* the records are frozen: untracked when every field is (see untrack_leaf) */
        for (int i = 0; i < m->n; i++)
            if (PyObject_GC_IsTracked(*(PyObject **)((char *)obj + m->offset[i]))) return obj;
        if (PyObject_GC_IsTracked(obj)) PyObject_GC_UnTrack(obj);
    }
    return obj;
}

/* ------------------------------------------------------------------------------------------------ */
/* Claims835: project835.py's claim and line accumulation (loops 2100 / 2110) and build()            */
/* ------------------------------------------------------------------------------------------------ */
enum { MK_SOURCE, MK_ADJ, MK_REMARK, MK_PARTY, MK_LINE, MK_CLAIM, MK_COUNT };
static Maker makers[MK_COUNT];
static PyObject *DecimalType, *InvalidOperation, *money_fn, *date_fn, *ccyymmdd_fn, *ZERO, *exact_decimal;
static PyObject *K_0, *S_emit_header, *S_HE, *S_MOA, *S_MIA, *K_QC, *K_IL, *K_74, *K_TT, *K_PR, *K_232, *K_233,
    *K_050, *K_472, *K_150, *K_151, *K_472end;

typedef struct {
    PyObject *seg;
    PyObject *dates;       /* dict */
    PyObject *adjustments; /* list */
    PyObject *remarks;     /* list */
    PyObject *line_control;
    PyObject *allowed;
} Line;

struct ClaimsObject {
    PyObject_HEAD
    PyObject *projection, *out, *file_name, *base;  /* base: the Source fields tuple */
    /* the open claim */
    PyObject *seg, *source, *parties, *dates, *adjustments, *remarks, *coverage;
    Line *lines;
    Py_ssize_t nlines, cap;
    int open;
};

static PyObject *claims_out(ClaimsObject *c) { return c->out; }

static void line_clear(Line *l) {
    Py_CLEAR(l->seg);
    Py_CLEAR(l->dates);
    Py_CLEAR(l->adjustments);
    Py_CLEAR(l->remarks);
    Py_CLEAR(l->line_control);
    Py_CLEAR(l->allowed);
}

static void claim_clear(ClaimsObject *c) {
    Py_CLEAR(c->seg);
    Py_CLEAR(c->source);
    Py_CLEAR(c->parties);
    Py_CLEAR(c->dates);
    Py_CLEAR(c->adjustments);
    Py_CLEAR(c->remarks);
    Py_CLEAR(c->coverage);
    for (Py_ssize_t i = 0; i < c->nlines; i++) line_clear(&c->lines[i]);
    c->nlines = 0;
    c->open = 0;
}

static int claims_traverse(ClaimsObject *c, visitproc visit, void *arg) {
    Py_VISIT(c->projection);
    Py_VISIT(c->out);
    Py_VISIT(c->file_name);
    Py_VISIT(c->base);
    Py_VISIT(c->seg);
    Py_VISIT(c->source);
    Py_VISIT(c->parties);
    Py_VISIT(c->dates);
    Py_VISIT(c->adjustments);
    Py_VISIT(c->remarks);
    Py_VISIT(c->coverage);
    for (Py_ssize_t i = 0; i < c->nlines; i++) {
        Py_VISIT(c->lines[i].seg);
        Py_VISIT(c->lines[i].dates);
        Py_VISIT(c->lines[i].adjustments);
        Py_VISIT(c->lines[i].remarks);
        Py_VISIT(c->lines[i].line_control);
        Py_VISIT(c->lines[i].allowed);
    }
    return 0;
}

static int claims_clear_refs(ClaimsObject *c) {
    claim_clear(c);
    Py_CLEAR(c->projection);
    Py_CLEAR(c->out);
    Py_CLEAR(c->file_name);
    Py_CLEAR(c->base);
    return 0;
}

static void claims_dealloc(ClaimsObject *c) {
    PyObject_GC_UnTrack(c);
    claims_clear_refs(c);
    PyMem_Free(c->lines);
    PyObject_GC_Del(c);
}

static PyObject *claims_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    /* Claims835(projection, out, file_name, (file_sha256, isa13, gs06, st02, file_name)) */
    PyObject *projection, *out, *file_name, *base;
    if (!PyArg_ParseTuple(args, "OO!UO!", &projection, &PyList_Type, &out, &file_name, &PyTuple_Type, &base))
        return NULL;
    if (PyTuple_GET_SIZE(base) != 5) {
        PyErr_SetString(PyExc_TypeError, "base: (file_sha256, isa13, gs06, st02, file_name)");
        return NULL;
    }
    if (makers[MK_CLAIM].type == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_fast.setup_835() was not called");
        return NULL;
    }
    ClaimsObject *c = PyObject_GC_New(ClaimsObject, type);
    if (c == NULL) return NULL;
    c->projection = Py_NewRef(projection);
    c->out = Py_NewRef(out);
    c->file_name = Py_NewRef(file_name);
    c->base = Py_NewRef(base);
    c->seg = c->source = c->parties = c->dates = c->adjustments = c->remarks = c->coverage = NULL;
    c->lines = NULL;
    c->nlines = c->cap = 0;
    c->open = 0;
    PyObject_GC_Track(c);
    return (PyObject *)c;
}

/* e[n] or "" (borrowed) */
static inline PyObject *el_at(PyObject *e, Py_ssize_t n) {
    return n < PyList_GET_SIZE(e) ? PyList_GET_ITEM(e, n) : S_empty;
}

static inline int nonempty(PyObject *v) { return PyUnicode_Check(v) && PyUnicode_GET_LENGTH(v) > 0; }

static int fast_dec_ok; /* dec_layout_ok(Decimal), set by setup_835 */

static PyObject *fast_decimal(PyObject *v) {
    if (!PyUnicode_Check(v) || !PyUnicode_IS_ASCII(v)) return NULL;
    return dec_from_ascii(DecimalType, PyUnicode_1BYTE_DATA(v), PyUnicode_GET_LENGTH(v));
}

/* project835._money: Decimal(e[n]), else values.money(seg, n, file_name) (which raises the located error) */
static PyObject *money(ClaimsObject *c, PyObject *seg, PyObject *e, Py_ssize_t n) {
    if (n < PyList_GET_SIZE(e) && fast_dec_ok) {
        PyObject *d = fast_decimal(PyList_GET_ITEM(e, n));
        if (d != NULL || PyErr_Occurred()) return d;
    }
    if (n < PyList_GET_SIZE(e) && exact_decimal != NULL) {
        /* a context that traps every signal: its create_decimal is Decimal(text) exactly, or raises, and
           then the constructor below decides (it skips the constructor's keyword parsing and context look-up) */
        PyObject *d = PyObject_CallOneArg(exact_decimal, PyList_GET_ITEM(e, n));
        if (d != NULL) return d;
        if (!PyErr_ExceptionMatches(PyExc_ArithmeticError)) return NULL;
        PyErr_Clear();
    }
    if (n < PyList_GET_SIZE(e)) {
        PyObject *d = PyObject_CallOneArg(DecimalType, PyList_GET_ITEM(e, n));
        if (d != NULL) return d;
        if (!PyErr_ExceptionMatches(InvalidOperation)) return NULL;
        PyErr_Clear();
    }
    PyObject *idx = PyLong_FromSsize_t(n);
    if (idx == NULL) return NULL;
    PyObject *r = PyObject_CallFunctionObjArgs(money_fn, seg, idx, c->file_name, NULL);
    Py_DECREF(idx);
    return r;
}

static struct { uint64_t key; PyObject *date; } date_table[256];

/* project835._date */
static PyObject *date_of(ClaimsObject *c, PyObject *seg, PyObject *e, Py_ssize_t n) {
    PyObject *raw = el_at(e, n);
    if (PyUnicode_IS_ASCII(raw) && PyUnicode_GET_LENGTH(raw) == 8 && all_digits(PyUnicode_1BYTE_DATA(raw), 8)) {
        /* values.ccyymmdd for ASCII digits: a real calendar date, else the Python path words it; the same
           text (a claim's lines share their dates) gives the same date object from a small table */
        const Py_UCS1 *s = PyUnicode_1BYTE_DATA(raw);
        uint64_t key;
        memcpy(&key, s, 8);
        unsigned slot = (unsigned)((key * 0x9E3779B97F4A7C15ull) >> 56);
        if (date_table[slot].key == key && date_table[slot].date != NULL) return Py_NewRef(date_table[slot].date);
        int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
        int m = (s[4] - '0') * 10 + (s[5] - '0'), d = (s[6] - '0') * 10 + (s[7] - '0');
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        if (y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= (m == 2 ? 28 + leap : DAYS[m])) {
            PyObject *date = PyDate_FromDate(y, m, d);
            if (date == NULL) return NULL;
            Py_XSETREF(date_table[slot].date, Py_NewRef(date));
            date_table[slot].key = key;
            return date;
        }
    }
    PyObject *d = PyObject_CallOneArg(ccyymmdd_fn, raw);
    if (d == NULL) return NULL;
    if (d == Py_None && nonempty(raw)) {
        Py_DECREF(d);
        PyObject *idx = PyLong_FromSsize_t(n);
        if (idx == NULL) return NULL;
        d = PyObject_CallFunctionObjArgs(date_fn, seg, idx, c->file_name, NULL);
        Py_DECREF(idx);
    }
    return d;
}

/* project835._cas: append the CAS triplets to ``list`` */
static int cas(ClaimsObject *c, PyObject *seg, PyObject *e, PyObject *list) {
    Py_ssize_t n = PyList_GET_SIZE(e);
    PyObject *group = n > 1 ? PyList_GET_ITEM(e, 1) : S_empty;
    Py_ssize_t stop = n < 20 ? n : 20;
    for (Py_ssize_t i = 2; i < stop; i += 3) {
        PyObject *carc = PyList_GET_ITEM(e, i);
        if (!nonempty(carc)) continue;
        PyObject *amount = money(c, seg, e, i + 1);
        if (amount == NULL) return -1;
        PyObject *qty = NULL;
        if (i + 2 < n && nonempty(PyList_GET_ITEM(e, i + 2))) {
            qty = money(c, seg, e, i + 2);
            if (qty == NULL) {
                Py_DECREF(amount);
                return -1;
            }
        }
        PyObject *vals[4] = {Py_NewRef(group), Py_NewRef(carc), amount, qty ? qty : Py_NewRef(Py_None)};
        PyObject *adj = maker_build(&makers[MK_ADJ], vals);
        if (adj == NULL) return -1;
        int rc = PyList_Append(list, adj);
        Py_DECREF(adj);
        if (rc < 0) return -1;
    }
    return 0;
}

static int append_remark(PyObject *list, PyObject *qualifier, PyObject *code) {
    PyObject *vals[2] = {Py_NewRef(qualifier), Py_NewRef(code)};
    PyObject *r = maker_build(&makers[MK_REMARK], vals);
    if (r == NULL) return -1;
    int rc = PyList_Append(list, r);
    Py_DECREF(r);
    return rc;
}

static PyObject *first_date(PyObject *dates, PyObject *a, PyObject *b, PyObject *fallback) {
    /* dates.get(a) or dates.get(b) or fallback (borrowed; fallback may be NULL = None) */
    PyObject *v = PyDict_GetItemWithError(dates, a);
    if (v != NULL && PyObject_IsTrue(v) == 1) return v;
    if (PyErr_Occurred()) return NULL;
    PyObject *w = PyDict_GetItemWithError(dates, b);
    if (w != NULL && (fallback == NULL || PyObject_IsTrue(w) == 1)) return w;
    if (PyErr_Occurred()) return NULL;
    if (fallback != NULL) return fallback;
    return Py_None;
}

static PyObject *split_comp(PyObject *v, PyObject *seg) {
    PyObject *comp = PyObject_GetAttr(PyTuple_GET_ITEM(seg, 3), S_component);
    if (comp == NULL) return NULL;
    PyObject *parts = PyUnicode_Split(v, comp, -1);
    Py_DECREF(comp);
    return parts;
}

/* _Line.build */
static PyObject *build_line(ClaimsObject *c, Line *l) {
    PyObject *s = l->seg, *e0 = PyTuple_GET_ITEM(s, 2);
    PyObject *e = PyList_GetSlice(e0, 0, PyList_GET_SIZE(e0));
    if (e == NULL) return NULL;
    while (PyList_GET_SIZE(e) < 7)
        if (PyList_Append(e, S_empty) < 0) goto fail_e;
    PyObject *vals[15] = {NULL};
    PyObject *parts = split_comp(PyList_GET_ITEM(e, 1), s);
    if (parts == NULL) goto fail_e;
    if (PyList_GET_SIZE(parts) < 2 && PyList_Append(parts, S_empty) < 0) {
        Py_DECREF(parts);
        goto fail_e;
    }
    PyObject *orig = split_comp(PyList_GET_ITEM(e, 6), s);
    if (orig == NULL) {
        Py_DECREF(parts);
        goto fail_e;
    }
    PyObject *start = first_date(l->dates, K_472, K_150, NULL);
    if (start == NULL) goto fail_parts;
    PyObject *end = first_date(l->dates, K_151, K_472end, start);
    if (end == NULL) goto fail_parts;
    /* modifiers: tuple(m for m in parts[2:6] if m) */
    Py_ssize_t np = PyList_GET_SIZE(parts), nm = 0;
    PyObject *mods[4];
    for (Py_ssize_t i = 2; i < np && i < 6; i++)
        if (nonempty(PyList_GET_ITEM(parts, i))) mods[nm++] = PyList_GET_ITEM(parts, i);
    PyObject *modt = PyTuple_New(nm);
    if (modt == NULL) goto fail_parts;
    for (Py_ssize_t i = 0; i < nm; i++) PyTuple_SET_ITEM(modt, i, Py_NewRef(mods[i]));
    vals[0] = Py_NewRef(PyList_GET_ITEM(parts, 0));
    vals[1] = Py_NewRef(PyList_GET_ITEM(parts, 1));
    vals[2] = untrack_leaf(modt);
    vals[8] = Py_NewRef(start);
    vals[9] = Py_NewRef(end);
    vals[7] = Py_NewRef(PyList_GET_SIZE(orig) > 1 ? PyList_GET_ITEM(orig, 1) : S_empty);
    vals[4 - 1] = nonempty(PyList_GET_ITEM(e, 2)) ? money(c, s, e, 2) : Py_NewRef(ZERO);
    if (vals[3] == NULL) goto fail_vals;
    vals[4] = nonempty(PyList_GET_ITEM(e, 3)) ? money(c, s, e, 3) : Py_NewRef(ZERO);
    if (vals[4] == NULL) goto fail_vals;
    vals[5] = Py_NewRef(PyList_GET_ITEM(e, 4));
    vals[6] = nonempty(PyList_GET_ITEM(e, 5)) ? money(c, s, e, 5) : Py_NewRef(Py_None);
    if (vals[6] == NULL) goto fail_vals;
    vals[10] = Py_NewRef(l->line_control ? l->line_control : S_empty);
    vals[11] = untrack_leaf(PyList_AsTuple(l->adjustments));
    if (vals[11] == NULL) goto fail_vals;
    vals[12] = untrack_leaf(PyList_AsTuple(l->remarks));
    if (vals[12] == NULL) goto fail_vals;
    vals[13] = Py_NewRef(l->allowed ? l->allowed : Py_None);
    vals[14] = Py_NewRef(PyTuple_GET_ITEM(s, 0));
    Py_DECREF(parts);
    Py_DECREF(orig);
    Py_DECREF(e);
    return maker_build(&makers[MK_LINE], vals);
fail_vals:
    for (int i = 0; i < 15; i++) Py_XDECREF(vals[i]);
fail_parts:
    Py_DECREF(parts);
    Py_DECREF(orig);
fail_e:
    Py_DECREF(e);
    return NULL;
}

static PyObject *dict_get(PyObject *d, PyObject *k) {
    PyObject *v = PyDict_GetItemWithError(d, k);
    if (v == NULL) return PyErr_Occurred() ? NULL : Py_NewRef(Py_None);
    return Py_NewRef(v);
}

/* _Claim.build, appended to out; the claim is closed */
static int finish(ClaimsObject *c) {
    if (!c->open) return 0;
    PyObject *s = c->seg, *e0 = PyTuple_GET_ITEM(s, 2);
    PyObject *e = PyList_GetSlice(e0, 0, PyList_GET_SIZE(e0));
    if (e == NULL) return -1;
    PyObject *vals[24] = {NULL};
    PyObject *claim = NULL;
    while (PyList_GET_SIZE(e) < 12)
        if (PyList_Append(e, S_empty) < 0) goto done;
    vals[0] = Py_NewRef(c->source);
    vals[1] = Py_NewRef(PyList_GET_ITEM(e, 1));
    vals[2] = Py_NewRef(PyList_GET_ITEM(e, 2));
    if ((vals[3] = money(c, s, e, 3)) == NULL) goto done;
    if ((vals[4] = money(c, s, e, 4)) == NULL) goto done;
    if ((vals[5] = nonempty(PyList_GET_ITEM(e, 5)) ? money(c, s, e, 5) : PyObject_CallOneArg(DecimalType, K_0)) == NULL)
        goto done;
    vals[6] = Py_NewRef(PyList_GET_ITEM(e, 6));
    vals[7] = Py_NewRef(PyList_GET_ITEM(e, 7));
    vals[8] = Py_NewRef(PyList_GET_ITEM(e, 8));
    vals[9] = Py_NewRef(PyList_GET_ITEM(e, 9));
    vals[10] = Py_NewRef(PyList_GET_ITEM(e, 11));
    PyObject *keys[5] = {K_QC, K_IL, K_74, K_TT, K_PR};
    for (int i = 0; i < 5; i++)
        if ((vals[11 + i] = dict_get(c->parties, keys[i])) == NULL) goto done;
    PyObject *dkeys[3] = {K_232, K_233, K_050};
    for (int i = 0; i < 3; i++)
        if ((vals[16 + i] = dict_get(c->dates, dkeys[i])) == NULL) goto done;
    if ((vals[19] = untrack_leaf(PyList_AsTuple(c->adjustments))) == NULL) goto done;
    if ((vals[20] = untrack_leaf(PyList_AsTuple(c->remarks))) == NULL) goto done;
    if ((vals[21] = PyTuple_New(c->nlines)) == NULL) goto done;
    for (Py_ssize_t i = 0; i < c->nlines; i++) {
        PyObject *line = build_line(c, &c->lines[i]);
        if (line == NULL) goto done;
        PyTuple_SET_ITEM(vals[21], i, line);
    }
    untrack_leaf(vals[21]);
    vals[22] = Py_NewRef(c->coverage ? c->coverage : Py_None);
    claim = maker_build(&makers[MK_CLAIM], vals);
    for (int i = 0; i < 24; i++) vals[i] = NULL; /* stolen */
done:
    for (int i = 0; i < 24; i++) Py_XDECREF(vals[i]);
    Py_DECREF(e);
    if (claim == NULL) return -1;
    claim_clear(c);
    int rc = PyList_Append(c->out, claim);
    Py_DECREF(claim);
    return rc;
}

static int start_claim(ClaimsObject *c, PyObject *seg) {
    PyObject *r = PyObject_CallMethodNoArgs(c->projection, S_emit_header);
    if (r == NULL) return -1;
    Py_DECREF(r);
    if (finish(c) < 0) return -1;
    PyObject *b = c->base;
    PyObject *vals[6] = {Py_NewRef(PyTuple_GET_ITEM(b, 0)), Py_NewRef(PyTuple_GET_ITEM(b, 1)),
                         Py_NewRef(PyTuple_GET_ITEM(b, 2)), Py_NewRef(PyTuple_GET_ITEM(b, 3)),
                         Py_NewRef(PyTuple_GET_ITEM(seg, 0)), Py_NewRef(PyTuple_GET_ITEM(b, 4))};
    c->source = maker_build(&makers[MK_SOURCE], vals);
    c->seg = Py_NewRef(seg);
    c->parties = PyDict_New();
    c->dates = PyDict_New();
    c->adjustments = PyList_New(0);
    c->remarks = PyList_New(0);
    c->open = 1;
    if (!c->source || !c->parties || !c->dates || !c->adjustments || !c->remarks) {
        claim_clear(c);
        return -1;
    }
    return 0;
}

static int add_line(ClaimsObject *c, PyObject *seg) {
    if (c->nlines == c->cap) {
        Py_ssize_t cap = c->cap ? c->cap * 2 : 8;
        Line *lines = PyMem_Realloc(c->lines, cap * sizeof(Line));
        if (lines == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        c->lines = lines;
        c->cap = cap;
    }
    Line *l = &c->lines[c->nlines];
    memset(l, 0, sizeof(Line));
    l->seg = Py_NewRef(seg);
    l->dates = PyDict_New();
    l->adjustments = PyList_New(0);
    l->remarks = PyList_New(0);
    c->nlines++;
    if (!l->dates || !l->adjustments || !l->remarks) return -1;
    return 0;
}

static int is_id(PyObject *sid, const char *s) {
    return PyUnicode_IS_ASCII(sid) && strcmp((const char *)PyUnicode_1BYTE_DATA(sid), s) == 0;
}


/* Project835.on for a segment in loop 2100 / 2110 (is_line: 2110); 0 ok, -1 error */
static int claims_on(ClaimsObject *c, int is_line, PyObject *seg) {
    PyObject *sid = PyTuple_GET_ITEM(seg, 1);
    if (is_id(sid, "CLP")) return start_claim(c, seg);
    if (!c->open) return 0;
    if (is_id(sid, "SVC")) return add_line(c, seg);
    PyObject *e = PyTuple_GET_ITEM(seg, 2);
    PyObject *q = el_at(e, 1);
    if (is_line) {
        if (c->nlines == 0) {
            PyErr_SetString(PyExc_IndexError, "list index out of range");
            return -1;
        }
        Line *l = &c->lines[c->nlines - 1];
        if (is_id(sid, "CAS")) return cas(c, seg, e, l->adjustments);
        if (is_id(sid, "DTM")) {
            PyObject *d = date_of(c, seg, e, 2);
            if (d == NULL) return -1;
            int rc = PyDict_SetItem(l->dates, q, d);
            Py_DECREF(d);
            return rc;
        }
        if (is_id(sid, "LQ")) return append_remark(l->remarks, q, el_at(e, 2));
        if (is_id(sid, "REF") && is_id(q, "6R")) {
            Py_XSETREF(l->line_control, Py_NewRef(el_at(e, 2)));
            return 0;
        }
        if (is_id(sid, "AMT") && is_id(q, "B6")) {
            PyObject *m = money(c, seg, e, 2);
            if (m == NULL) return -1;
            Py_XSETREF(l->allowed, m);
        }
        return 0;
    }
    if (is_id(sid, "CAS")) return cas(c, seg, e, c->adjustments);
    if (is_id(sid, "NM1")) {
        if (nonempty(el_at(e, 3)) || nonempty(el_at(e, 4)) || nonempty(el_at(e, 9))) {
            PyObject *vals[5] = {Py_NewRef(el_at(e, 1)), Py_NewRef(el_at(e, 3)), Py_NewRef(el_at(e, 4)),
                                 Py_NewRef(el_at(e, 8)), Py_NewRef(el_at(e, 9))};
            PyObject *p = maker_build(&makers[MK_PARTY], vals);
            if (p == NULL) return -1;
            int rc = PyDict_SetItem(c->parties, q, p);
            Py_DECREF(p);
            return rc;
        }
        return 0;
    }
    if (is_id(sid, "MOA") || is_id(sid, "MIA")) {
        static const int moa[] = {3, 4, 5, 6, 7}, mia[] = {5, 20, 21, 22, 23};
        int mo = is_id(sid, "MOA");
        const int *pos = mo ? moa : mia;
        for (int k = 0; k < 5; k++) {
            PyObject *v = el_at(e, pos[k]);
            if (nonempty(v) && append_remark(c->remarks, mo ? S_MOA : S_MIA, v) < 0) return -1;
        }
        return 0;
    }
    if (is_id(sid, "DTM")) {
        PyObject *d = date_of(c, seg, e, 2);
        if (d == NULL) return -1;
        int rc = PyDict_SetItem(c->dates, q, d);
        Py_DECREF(d);
        return rc;
    }
    if (is_id(sid, "AMT") && is_id(q, "AU")) {
        PyObject *m = money(c, seg, e, 2);
        if (m == NULL) return -1;
        Py_XSETREF(c->coverage, m);
    }
    return 0;
}

static int loop_kind(PyObject *loop) {
    /* 1: "2110", 2: "2100", 0: other */
    if (!PyUnicode_Check(loop) || PyUnicode_GET_LENGTH(loop) != 4 || !PyUnicode_IS_ASCII(loop)) return 0;
    const char *s = (const char *)PyUnicode_1BYTE_DATA(loop);
    if (memcmp(s, "2110", 4) == 0) return 1;
    if (memcmp(s, "2100", 4) == 0) return 2;
    return 0;
}

static PyObject *claims_on_py(ClaimsObject *c, PyObject *args) {
    PyObject *loop, *seg;
    if (!PyArg_ParseTuple(args, "UO!", &loop, &PyTuple_Type, &seg)) return NULL;
    int k = loop_kind(loop);
    if (k == 0) {
        PyErr_SetString(PyExc_ValueError, "Claims835.on takes loops 2100 and 2110");
        return NULL;
    }
    if (claims_on(c, k == 1, seg) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyObject *claims_finish_py(ClaimsObject *c, PyObject *unused) {
    if (finish(c) < 0) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef claims_methods[] = {
    {"on", (PyCFunction)claims_on_py, METH_VARARGS, "on(loop, seg): a segment of loop 2100 or 2110"},
    {"finish", (PyCFunction)claims_finish_py, METH_NOARGS, "build the open claim (if any) into out"},
    {NULL},
};

static PyTypeObject ClaimsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.x12._fast.Claims835",
    .tp_basicsize = sizeof(ClaimsObject),
    .tp_dealloc = (destructor)claims_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_traverse = (traverseproc)claims_traverse,
    .tp_clear = (inquiry)claims_clear_refs,
    .tp_methods = claims_methods,
    .tp_new = claims_new,
    .tp_doc = "Claims835(projection, out, file_name, source fields): project835.py's claims, in C",
};

static PyObject *setup_835(PyObject *self, PyObject *args) {
    /* setup_835(decimal, invalid_operation, money, date_element, ccyymmdd, zero,
                 ((cls, names, defaults) x 6: Source, Adjustment, Remark, Party, ServicePayment, ClaimPayment)
                 [, exact_decimal: a Context trapping every signal's create_decimal]) */
    PyObject *dec, *inv, *mf, *df, *cf, *zero, *specs, *exact = NULL;
    if (!PyArg_ParseTuple(args, "OOOOOOO!|O", &dec, &inv, &mf, &df, &cf, &zero, &PyTuple_Type, &specs, &exact))
        return NULL;
    if (PyTuple_GET_SIZE(specs) != MK_COUNT) {
        PyErr_SetString(PyExc_TypeError, "six record classes expected");
        return NULL;
    }
    for (int i = 0; i < MK_COUNT; i++) {
        PyObject *cls, *names, *defaults;
        if (!PyArg_ParseTuple(PyTuple_GET_ITEM(specs, i), "OOO", &cls, &names, &defaults)) return NULL;
        maker_clear(&makers[i]);
        if (maker_init(&makers[i], cls, names, defaults) < 0) {
            maker_clear(&makers[i]);
            return NULL;
        }
    }
    Py_XSETREF(DecimalType, Py_NewRef(dec));
    Py_XSETREF(InvalidOperation, Py_NewRef(inv));
    Py_XSETREF(money_fn, Py_NewRef(mf));
    Py_XSETREF(date_fn, Py_NewRef(df));
    Py_XSETREF(ccyymmdd_fn, Py_NewRef(cf));
    Py_XSETREF(ZERO, Py_NewRef(zero));
    Py_XSETREF(exact_decimal, exact == NULL || exact == Py_None ? NULL : Py_NewRef(exact));
    fast_dec_ok = 0;
    int ok = dec_layout_ok(DecimalType);
    if (ok < 0) return NULL;
    fast_dec_ok = ok;
    Py_RETURN_NONE;
}

static PyObject *decimal_py(PyObject *self, PyObject *text) {
    if (!fast_dec_ok) Py_RETURN_NONE;
    PyObject *d = fast_decimal(text);
    if (d != NULL || PyErr_Occurred()) return d;
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------------------------ */
static PyObject *set_foreign(PyObject *self, PyObject *fn) {
    Py_XSETREF(foreign_fn, Py_NewRef(fn));
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"setup_835", setup_835, METH_VARARGS, "the record classes and value helpers of project835.py"},
    {"decimal", decimal_py, METH_O, "the amount reader's Decimal(text) for plain amount text, else None "
                                    "(None for all text when the in-place build is off: see setup_835)"},
    {"set_foreign", set_foreign, METH_O, "set the walker's foreign-separator rule (walk._foreign_separator)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_fast", "The X12 reader's compiled hot loop.", -1, methods};

PyMODINIT_FUNC PyInit__fast(void) {
#define INTERN(var, s) if ((var = PyUnicode_InternFromString(s)) == NULL) return NULL
    INTERN(S_component, "component");
    INTERN(S_close_st, "close_st");
    INTERN(S_enter, "enter");
    INTERN(S_must, "must");
    INTERN(S_fast, "fast");
    INTERN(S_repeat_attr, "repeat");
    INTERN(S_close_frame, "close_frame");
    INTERN(S_end_st, "end_st");
    INTERN(S_stack, "stack");
    INTERN(S_st, "st");
    INTERN(S_step, "step");
    INTERN(S_seek, "seek");
    INTERN(S_check_elements, "check_elements");
    INTERN(S_end, "end");
    INTERN(S_repeat, "repeat_finding");
    INTERN(S_foreign, "_foreign_separator");
    INTERN(S_empty, "");
    INTERN(S_emit_header, "_emit_header");
    INTERN(S_HE, "HE");
    INTERN(S_MOA, "MOA");
    INTERN(S_MIA, "MIA");
    INTERN(K_QC, "QC");
    INTERN(K_IL, "IL");
    INTERN(K_74, "74");
    INTERN(K_TT, "TT");
    INTERN(K_PR, "PR");
    INTERN(K_232, "232");
    INTERN(K_233, "233");
    INTERN(K_050, "050");
    INTERN(K_472, "472");
    INTERN(K_150, "150");
    INTERN(K_151, "151");
    INTERN(K_472end, "472end");
    INTERN(K_0, "0");
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
    if (PyType_Ready(&CheckType) < 0 || PyType_Ready(&WalkerType) < 0 || PyType_Ready(&SplitterType) < 0 ||
        PyType_Ready(&ClaimsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Check", (PyObject *)&CheckType) < 0 ||
        PyModule_AddObjectRef(m, "Walker", (PyObject *)&WalkerType) < 0 ||
        PyModule_AddObjectRef(m, "Splitter", (PyObject *)&SplitterType) < 0 ||
        PyModule_AddObjectRef(m, "Claims835", (PyObject *)&ClaimsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
