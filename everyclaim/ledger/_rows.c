/* everyclaim.ledger._rows: the 835 posting rows of a page of ClaimPayments, built in C (optional).
 *
 * rows_835(batch, ids, line_ids, rid, payer_id, file_id, to_cents)
 *     -> (payments, lines, adjustments, remarks, unbalanced, keys, paid)
 *
 * The same tuples post.py's _flush_payments builds in Python (column orders PAYMENT_COLS, LINE_COLS,
 * ADJUSTMENT_COLS, REMARK_COLS there), and the balance checks: ``unbalanced`` lists (claim index, line
 * index or -1, adjustment total in cents) where SVC02 - SVC03 / CLP03 - CLP04 differs from the CAS total;
 * post.py words those findings. Cents are exact: an amount that is not a Decimal, or has a fraction of a
 * cent, goes to ``to_cents`` (balances.py), which converts or raises as it always does. ``keys`` is
 * the page's part of the transaction identity (post.py's _claim_key of each claim, joined) and ``paid``
 * the sum of its CLP04 in cents.
 * tests/test_ledger_native.py checks the tables are identical either way.
 *
 * With ``sqlite`` true (an optional 8th argument) the values come in the form SQLAlchemy would bind on
 * SQLite (db.py's _converter): dates as ISO text, booleans as 0/1, quantities (units, CAS04) as float,
 * so the insert needs no per-value conversion in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <datetime.h>

#include "../_decimal.h"

static PyObject *DecimalType, *HUNDRED;
static int fast_dec_ok; /* dec_layout_ok(Decimal), set by setup() */
static PyObject *A_lines, *A_adjustments, *A_remarks, *A_patient, *A_insured, *A_name, *A_first, *A_id, *A_pcn,
    *A_status, *A_charge, *A_paid, *A_patient_responsibility, *A_coverage_amount, *A_claim_filing,
    *A_payer_claim_control, *A_facility_code, *A_frequency, *A_drg, *A_statement_from, *A_statement_to,
    *A_received_date, *A_corrected_priority_payer, *A_source, *A_isa13, *A_gs06, *A_st02, *A_seg_index,
    *A_procedure_qualifier, *A_procedure, *A_modifiers, *A_allowed, *A_revenue_code, *A_units,
    *A_original_procedure, *A_service_date, *A_service_date_end, *A_line_control, *A_group, *A_carc, *A_amount,
    *A_quantity, *A_qualifier, *A_code, *S_empty, *S_comma, *S_claim, *S_line, *S_22, *S_4;

/* A slot read by its offset when the object is of the class first seen at this call site (the records
   are slotted dataclasses), else an ordinary attribute look-up. */
typedef struct {
    PyTypeObject *type;
    Py_ssize_t off;
    int tried;
} Slot;

#include <structmember.h>

static PyObject *slot_get(PyObject *o, Slot *s, PyObject *name) {
    PyTypeObject *tp = Py_TYPE(o);
    if (!s->tried) {
        s->tried = 1;
        PyObject *d = _PyType_Lookup(tp, name);
        if (d != NULL && Py_IS_TYPE(d, &PyMemberDescr_Type)) {
            PyMemberDef *md = ((PyMemberDescrObject *)d)->d_member;
            if (md->type == T_OBJECT_EX && !(md->flags & READONLY)) {
                s->type = tp;
                Py_INCREF(tp);
                s->off = md->offset;
            }
        }
    }
    if (tp == s->type) {
        PyObject *v = *(PyObject **)((char *)o + s->off);
        if (v != NULL) return Py_NewRef(v);
    }
    return PyObject_GetAttr(o, name);
}

#define GET(o, name) __extension__({ static Slot _slot; slot_get((o), &_slot, (name)); })

/* str(d) of a plain decimal ("-123.45", at most 18 digits) as exact cents; NULL (no error) when it is
   anything else (exponent, more than two non-zero decimals, NaN ...) */
static PyObject *cents_from_str(PyObject *str) {
    if (!PyUnicode_IS_ASCII(str)) return NULL;
    const char *s = (const char *)PyUnicode_1BYTE_DATA(str);
    Py_ssize_t n = PyUnicode_GET_LENGTH(str), i = 0;
    int neg = 0;
    if (i < n && s[i] == '-') {
        neg = 1;
        i++;
    }
    long long v = 0;
    int digits = 0, seen = 0;
    for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
        v = v * 10 + (s[i] - '0');
        if (v) digits++;
        seen = 1;
    }
    if (!seen || digits > 15) return NULL;
    int frac = 0;
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && s[i] >= '0' && s[i] <= '9'; i++, frac++) {
            if (frac < 2) v = v * 10 + (s[i] - '0');
            else if (s[i] != '0') return NULL; /* a fraction of a cent: to_cents raises */
        }
    }
    if (i != n) return NULL;
    for (; frac < 2; frac++) v *= 10;
    return PyLong_FromLongLong(neg ? -v : v);
}

/* exact cents of a Decimal (new reference), or to_cents(v) for anything else */
static PyObject *cents(PyObject *v, PyObject *to_cents) {
    if (v == Py_None) return Py_NewRef(Py_None);
    if (Py_TYPE(v) == (PyTypeObject *)DecimalType) {
        long long whole;
        if (fast_dec_ok && dec_cents(v, &whole)) return PyLong_FromLongLong(whole);
        PyObject *str = PyObject_Str(v);
        if (str == NULL) return NULL;
        PyObject *c = cents_from_str(str);
        Py_DECREF(str);
        if (c != NULL || PyErr_Occurred()) return c;
        PyObject *scaled = PyNumber_Multiply(v, HUNDRED);
        if (scaled == NULL) return NULL;
        PyObject *n = PyNumber_Long(scaled);
        if (n == NULL) {
            Py_DECREF(scaled);
            return NULL;
        }
        int eq = PyObject_RichCompareBool(n, scaled, Py_EQ);
        Py_DECREF(scaled);
        if (eq == 1) return n;
        Py_DECREF(n);
        if (eq < 0) return NULL;
    }
    return PyObject_CallOneArg(to_cents, v); /* converts, or raises the usual error */
}

static PyObject *attr_or_empty(PyObject *obj, PyObject *name) {
    /* obj.name if obj else "" */
    if (obj == Py_None) return Py_NewRef(S_empty);
    return PyObject_GetAttr(obj, name);
}

static int for_sqlite; /* the rows_835 call in progress wants SQLite's bound forms */

/* The ISO text of the last dates seen, by value: a file's claims share few dates (and the reader gives
   equal dates as one object), so most conversions are a look-up. Direct-mapped on the date's day number. */
#define DATE_SLOTS 256
static struct {
    int ymd; /* year * 10000 + month * 100 + day; 0 = empty */
    PyObject *text;
} date_texts[DATE_SLOTS];

/* a date as SQLite stores it (db.py's _iso: ISO text), or the value itself (new reference) */
static PyObject *as_date(PyObject *v) {
    if (v == NULL || !for_sqlite || v == Py_None) return v;
    PyObject *r;
    if (PyDate_CheckExact(v)) {
        int y = PyDateTime_GET_YEAR(v), m = PyDateTime_GET_MONTH(v), d = PyDateTime_GET_DAY(v);
        int ymd = y * 10000 + m * 100 + d, slot = (y * 372 + m * 31 + d) % DATE_SLOTS;
        if (date_texts[slot].ymd == ymd) {
            r = Py_NewRef(date_texts[slot].text);
        } else {
            r = PyUnicode_FromFormat("%04d-%02d-%02d", y, m, d);
            if (r != NULL) {
                Py_XSETREF(date_texts[slot].text, Py_NewRef(r));
                date_texts[slot].ymd = ymd;
            }
        }
    } else {
        r = PyObject_CallMethod(v, "isoformat", NULL);
    }
    Py_DECREF(v);
    return r;
}

/* a Numeric quantity as SQLAlchemy binds it on SQLite (float), or the value itself (new reference) */
static PyObject *as_quantity(PyObject *v) {
    if (v == NULL || !for_sqlite || v == Py_None) return v;
    PyObject *r = PyNumber_Float(v);
    Py_DECREF(v);
    return r;
}

/* a boolean as SQLAlchemy binds it on SQLite (0/1) or as a Python bool */
static PyObject *as_bool(int b) { return for_sqlite ? PyLong_FromLong(b) : PyBool_FromLong(b); }

/* build a tuple from n new references (NULL in any -> NULL, all released) */
static PyObject *pack(PyObject **v, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        if (v[i] == NULL) {
            for (Py_ssize_t j = 0; j < n; j++) Py_XDECREF(v[j]);
            return NULL;
        }
    }
    PyObject *t = PyTuple_New(n);
    if (t == NULL) {
        for (Py_ssize_t j = 0; j < n; j++) Py_DECREF(v[j]);
        return NULL;
    }
    int atomic = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyTuple_SET_ITEM(t, i, v[i]);
        if (PyObject_GC_IsTracked(v[i])) atomic = 0;
    }
    /* a row of str, int, float, None (and date / Decimal) cannot be part of a cycle: the cyclic GC need
       not track it (as CPython's own tuples are untracked once seen atomic). A million new tracked rows
       would start a collection every 700 of them, each walking every young object. */
    if (atomic) PyObject_GC_UnTrack(t);
    return t;
}

static int append_new(PyObject *list, PyObject *item) {
    if (item == NULL) return -1;
    int rc = PyList_Append(list, item);
    Py_DECREF(item);
    return rc;
}

/* add a*b... : total += c (both PyLong); returns new total */
static PyObject *add(PyObject *total, PyObject *c) {
    PyObject *r = PyNumber_Add(total, c);
    Py_DECREF(total);
    return r;
}

/* the adjustments of ``owner`` (claim or line) as rows; their cents summed into *total */
static int adjustment_rows(PyObject *owner, PyObject *cp_id, PyObject *lp_id, PyObject *level, PyObject *to_cents,
                           PyObject *out, PyObject **total) {
    PyObject *adjs = GET(owner, A_adjustments);
    if (adjs == NULL) return -1;
    PyObject *seq = PySequence_Fast(adjs, "adjustments must be a sequence");
    Py_DECREF(adjs);
    if (seq == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *a = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *amount = GET(a, A_amount);
        PyObject *c = amount ? cents(amount, to_cents) : NULL;
        Py_XDECREF(amount);
        if (c == NULL) goto fail;
        *total = add(*total, c);
        if (*total == NULL) {
            Py_DECREF(c);
            goto fail;
        }
        PyObject *v[7] = {Py_NewRef(cp_id), Py_NewRef(lp_id), Py_NewRef(level), GET(a, A_group),
                          GET(a, A_carc), c, as_quantity(GET(a, A_quantity))};
        if (append_new(out, pack(v, 7)) < 0) goto fail;
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    return -1;
}

static int remark_rows(PyObject *owner, PyObject *cp_id, PyObject *lp_id, PyObject *out) {
    PyObject *rems = GET(owner, A_remarks);
    if (rems == NULL) return -1;
    PyObject *seq = PySequence_Fast(rems, "remarks must be a sequence");
    Py_DECREF(rems);
    if (seq == NULL) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *r = PySequence_Fast_GET_ITEM(seq, i);
        PyObject *v[4] = {Py_NewRef(cp_id), Py_NewRef(lp_id), GET(r, A_qualifier),
                          GET(r, A_code)};
        if (append_new(out, pack(v, 4)) < 0) {
            Py_DECREF(seq);
            return -1;
        }
    }
    Py_DECREF(seq);
    return 0;
}

/* charge - paid != total (cents) -> 1, equal -> 0, error -> -1 */
static int unbalanced(PyObject *owner, PyObject *total, PyObject *to_cents) {
    PyObject *charge = GET(owner, A_charge);
    PyObject *ch = charge ? cents(charge, to_cents) : NULL;
    Py_XDECREF(charge);
    if (ch == NULL) return -1;
    PyObject *paid = GET(owner, A_paid);
    PyObject *pa = paid ? cents(paid, to_cents) : NULL;
    Py_XDECREF(paid);
    if (pa == NULL) {
        Py_DECREF(ch);
        return -1;
    }
    PyObject *diff = PyNumber_Subtract(ch, pa);
    Py_DECREF(ch);
    Py_DECREF(pa);
    if (diff == NULL) return -1;
    int ne = PyObject_RichCompareBool(diff, total, Py_NE);
    Py_DECREF(diff);
    return ne;
}

static PyObject *line_row(PyObject *sp, PyObject *lp_id, PyObject *cp_id, PyObject *to_cents) {
    PyObject *v[15];
    v[0] = Py_NewRef(lp_id);
    v[1] = Py_NewRef(cp_id);
    v[2] = GET(sp, A_procedure_qualifier);
    v[3] = GET(sp, A_procedure);
    PyObject *mods = GET(sp, A_modifiers);
    v[4] = mods ? PyUnicode_Join(S_comma, mods) : NULL;
    Py_XDECREF(mods);
    PyObject *x;
    x = GET(sp, A_charge);
    v[5] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    x = GET(sp, A_paid);
    v[6] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    x = GET(sp, A_allowed);
    v[7] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    v[8] = GET(sp, A_revenue_code);
    v[9] = as_quantity(GET(sp, A_units));
    v[10] = GET(sp, A_original_procedure);
    v[11] = as_date(GET(sp, A_service_date));
    v[12] = as_date(GET(sp, A_service_date_end));
    v[13] = GET(sp, A_line_control);
    v[14] = GET(sp, A_seg_index);
    return pack(v, 15);
}

static PyObject *payment_row(PyObject *cp, PyObject *cp_id, PyObject *rid, PyObject *payer_id, PyObject *file_id,
                             PyObject *to_cents) {
    PyObject *v[31];
    for (int i = 0; i < 31; i++) v[i] = NULL;
    PyObject *patient = GET(cp, A_patient);
    PyObject *insured = GET(cp, A_insured);
    PyObject *prio = GET(cp, A_corrected_priority_payer);
    PyObject *src = GET(cp, A_source);
    PyObject *status = GET(cp, A_status);
    PyObject *t = NULL;
    if (!patient || !insured || !prio || !src || !status) goto done;
    PyObject *who = PyObject_IsTrue(patient) == 1 ? patient : insured; /* cp.patient or cp.insured */
    v[0] = Py_NewRef(cp_id);
    v[1] = Py_NewRef(rid);
    v[2] = Py_NewRef(Py_None); /* claim_id */
    v[3] = GET(cp, A_pcn);
    v[4] = Py_NewRef(payer_id);
    v[5] = Py_NewRef(status);
    PyObject *x;
    x = GET(cp, A_charge);
    v[6] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    if (v[6] == NULL) goto done;
    x = GET(cp, A_paid);
    v[7] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    if (v[7] == NULL) goto done;
    x = GET(cp, A_patient_responsibility);
    v[8] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    if (v[8] == NULL) goto done;
    x = GET(cp, A_coverage_amount);
    v[9] = x ? cents(x, to_cents) : NULL;
    Py_XDECREF(x);
    if (v[9] == NULL) goto done;
    v[10] = GET(cp, A_claim_filing);
    v[11] = GET(cp, A_payer_claim_control);
    v[12] = GET(cp, A_facility_code);
    v[13] = GET(cp, A_frequency);
    v[14] = GET(cp, A_drg);
    v[15] = attr_or_empty(who, A_name);
    v[16] = attr_or_empty(who, A_first);
    v[17] = attr_or_empty(insured, A_id);
    v[18] = as_date(GET(cp, A_statement_from));
    v[19] = as_date(GET(cp, A_statement_to));
    v[20] = as_date(GET(cp, A_received_date));
    int r22 = PyObject_RichCompareBool(status, S_22, Py_EQ), r4 = PyObject_RichCompareBool(status, S_4, Py_EQ);
    if (r22 < 0 || r4 < 0) goto done;
    v[21] = as_bool(r22);
    v[22] = as_bool(r4);
    v[23] = Py_NewRef(Py_None); /* reverses_id */
    v[24] = attr_or_empty(prio, A_id);
    v[25] = attr_or_empty(prio, A_name);
    v[26] = Py_NewRef(file_id);
    v[27] = GET(src, A_isa13);
    v[28] = GET(src, A_gs06);
    v[29] = GET(src, A_st02);
    v[30] = GET(src, A_seg_index);
    t = pack(v, 31);
    for (int i = 0; i < 31; i++) v[i] = NULL;
done:
    for (int i = 0; i < 31; i++) Py_XDECREF(v[i]);
    Py_XDECREF(patient);
    Py_XDECREF(insured);
    Py_XDECREF(prio);
    Py_XDECREF(src);
    Py_XDECREF(status);
    return t;
}

/* post.py's _claim_key(cp) as str: "|pcn:status:charge:paid:payer_claim_control" (str() of the Decimals) */
static PyObject *claim_key(PyObject *cp) {
    PyObject *pcn = GET(cp, A_pcn), *status = GET(cp, A_status), *charge = GET(cp, A_charge), *paid = GET(cp, A_paid),
             *pcc = GET(cp, A_payer_claim_control), *key = NULL;
    if (pcn && status && charge && paid && pcc)
        key = PyUnicode_FromFormat("|%S:%S:%S:%S:%S", pcn, status, charge, paid, pcc);
    Py_XDECREF(pcn);
    Py_XDECREF(status);
    Py_XDECREF(charge);
    Py_XDECREF(paid);
    Py_XDECREF(pcc);
    return key;
}

static PyObject *rows_835(PyObject *self, PyObject *args) {
    PyObject *batch, *ids, *line_ids, *rid, *payer_id, *file_id, *to_cents;
    int sqlite = 0;
    if (!PyArg_ParseTuple(args, "O!O!O!OOOO|p", &PyList_Type, &batch, &PyList_Type, &ids, &PyList_Type, &line_ids,
                          &rid, &payer_id, &file_id, &to_cents, &sqlite))
        return NULL;
    for_sqlite = sqlite;
    Py_ssize_t n = PyList_GET_SIZE(batch);
    if (PyList_GET_SIZE(ids) != n) {
        PyErr_SetString(PyExc_ValueError, "one id per claim payment");
        return NULL;
    }
    PyObject *pays = PyList_New(0), *lines = PyList_New(0), *adjs = PyList_New(0), *rems = PyList_New(0),
             *bad = PyList_New(0), *keys = PyList_New(0), *paid = PyLong_FromLong(0);
    Py_ssize_t next_line = 0, nline_ids = PyList_GET_SIZE(line_ids);
    if (!pays || !lines || !adjs || !rems || !bad || !keys || !paid) goto fail;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cp = PyList_GET_ITEM(batch, i), *cp_id = PyList_GET_ITEM(ids, i);
        if (append_new(pays, payment_row(cp, cp_id, rid, payer_id, file_id, to_cents)) < 0) goto fail;
        /* the transaction's identity and paid total (post.py's _claim_key and to_cents(cp.paid)) */
        paid = add(paid, PyTuple_GET_ITEM(PyList_GET_ITEM(pays, i), 7));
        if (paid == NULL || append_new(keys, claim_key(cp)) < 0) goto fail;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cp = PyList_GET_ITEM(batch, i), *cp_id = PyList_GET_ITEM(ids, i);
        PyObject *cl = GET(cp, A_lines);
        if (cl == NULL) goto fail;
        PyObject *seq = PySequence_Fast(cl, "lines must be a sequence");
        Py_DECREF(cl);
        if (seq == NULL) goto fail;
        Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t j = 0; j < k; j++) {
            if (next_line + j >= nline_ids) {
                Py_DECREF(seq);
                PyErr_SetString(PyExc_ValueError, "too few line ids");
                goto fail;
            }
            if (append_new(lines, line_row(PySequence_Fast_GET_ITEM(seq, j), PyList_GET_ITEM(line_ids, next_line + j),
                                           cp_id, to_cents)) < 0) {
                Py_DECREF(seq);
                goto fail;
            }
        }
        Py_DECREF(seq);
        next_line += k;
    }
    next_line = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *cp = PyList_GET_ITEM(batch, i), *cp_id = PyList_GET_ITEM(ids, i);
        PyObject *total = PyLong_FromLong(0);
        if (total == NULL) goto fail;
        if (adjustment_rows(cp, cp_id, Py_None, S_claim, to_cents, adjs, &total) < 0 ||
            remark_rows(cp, cp_id, Py_None, rems) < 0) {
            Py_XDECREF(total);
            goto fail;
        }
        PyObject *cl = GET(cp, A_lines);
        PyObject *seq = cl ? PySequence_Fast(cl, "lines must be a sequence") : NULL;
        Py_XDECREF(cl);
        if (seq == NULL) {
            Py_DECREF(total);
            goto fail;
        }
        Py_ssize_t k = PySequence_Fast_GET_SIZE(seq);
        for (Py_ssize_t j = 0; j < k; j++) {
            PyObject *sp = PySequence_Fast_GET_ITEM(seq, j);
            PyObject *lp_id = PyList_GET_ITEM(line_ids, next_line + j);
            PyObject *line_total = PyLong_FromLong(0);
            if (line_total == NULL || adjustment_rows(sp, cp_id, lp_id, S_line, to_cents, adjs, &line_total) < 0 ||
                remark_rows(sp, cp_id, lp_id, rems) < 0) {
                Py_XDECREF(line_total);
                Py_DECREF(seq);
                Py_DECREF(total);
                goto fail;
            }
            total = add(total, line_total);
            int ne = total ? unbalanced(sp, line_total, to_cents) : -1;
            if (ne == 1) {
                PyObject *v[3] = {PyLong_FromSsize_t(i), PyLong_FromSsize_t(j), Py_NewRef(line_total)};
                if (append_new(bad, pack(v, 3)) < 0) ne = -1;
            }
            Py_DECREF(line_total);
            if (ne < 0) {
                Py_DECREF(seq);
                Py_XDECREF(total);
                goto fail;
            }
        }
        Py_DECREF(seq);
        next_line += k;
        int ne = unbalanced(cp, total, to_cents);
        if (ne == 1) {
            PyObject *v[3] = {PyLong_FromSsize_t(i), PyLong_FromLong(-1), Py_NewRef(total)};
            if (append_new(bad, pack(v, 3)) < 0) ne = -1;
        }
        Py_DECREF(total);
        if (ne < 0) goto fail;
    }
    PyObject *joined = PyUnicode_Join(S_empty, keys);
    Py_DECREF(keys);
    keys = NULL;
    if (joined == NULL) goto fail;
    return Py_BuildValue("NNNNNNN", pays, lines, adjs, rems, bad, joined, paid);
fail:
    Py_XDECREF(keys);
    Py_XDECREF(paid);
    Py_XDECREF(pays);
    Py_XDECREF(lines);
    Py_XDECREF(adjs);
    Py_XDECREF(rems);
    Py_XDECREF(bad);
    return NULL;
}

static PyObject *setup(PyObject *self, PyObject *dec) {
    Py_XSETREF(DecimalType, Py_NewRef(dec));
    PyObject *h = PyObject_CallFunction(dec, "i", 100);
    if (h == NULL) return NULL;
    Py_XSETREF(HUNDRED, h);
    fast_dec_ok = 0;
    int ok = dec_layout_ok(dec);
    if (ok < 0) return NULL;
    fast_dec_ok = ok;
    Py_RETURN_NONE;
}

static PyObject *cents_py(PyObject *self, PyObject *args) {
    PyObject *v, *to_cents;
    if (!PyArg_ParseTuple(args, "OO", &v, &to_cents)) return NULL;
    return cents(v, to_cents);
}

static PyObject *in_place_py(PyObject *self, PyObject *unused) { return PyBool_FromLong(fast_dec_ok); }

static PyMethodDef methods[] = {
    {"in_place", in_place_py, METH_NOARGS, "whether cents are read off Decimals in place (see _decimal.h)"},
    {"cents", cents_py, METH_VARARGS, "cents(amount, to_cents): the builder's exact cents (for tests)"},
    {"rows_835", rows_835, METH_VARARGS,
     "rows_835(batch, ids, line_ids, rid, payer_id, file_id, to_cents[, sqlite]) -> (payments, lines, adjustments, "
     "remarks, unbalanced, claim keys, paid cents)"},
    {"setup", setup, METH_O, "setup(Decimal)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_rows", "835 posting rows in C.", -1, methods};

PyMODINIT_FUNC PyInit__rows(void) {
    PyDateTime_IMPORT;
    if (PyDateTimeAPI == NULL) return NULL;
#define INTERN(var, s) if ((var = PyUnicode_InternFromString(s)) == NULL) return NULL
    INTERN(A_lines, "lines");
    INTERN(A_adjustments, "adjustments");
    INTERN(A_remarks, "remarks");
    INTERN(A_patient, "patient");
    INTERN(A_insured, "insured");
    INTERN(A_name, "name");
    INTERN(A_first, "first");
    INTERN(A_id, "id");
    INTERN(A_pcn, "pcn");
    INTERN(A_status, "status");
    INTERN(A_charge, "charge");
    INTERN(A_paid, "paid");
    INTERN(A_patient_responsibility, "patient_responsibility");
    INTERN(A_coverage_amount, "coverage_amount");
    INTERN(A_claim_filing, "claim_filing");
    INTERN(A_payer_claim_control, "payer_claim_control");
    INTERN(A_facility_code, "facility_code");
    INTERN(A_frequency, "frequency");
    INTERN(A_drg, "drg");
    INTERN(A_statement_from, "statement_from");
    INTERN(A_statement_to, "statement_to");
    INTERN(A_received_date, "received_date");
    INTERN(A_corrected_priority_payer, "corrected_priority_payer");
    INTERN(A_source, "source");
    INTERN(A_isa13, "isa13");
    INTERN(A_gs06, "gs06");
    INTERN(A_st02, "st02");
    INTERN(A_seg_index, "seg_index");
    INTERN(A_procedure_qualifier, "procedure_qualifier");
    INTERN(A_procedure, "procedure");
    INTERN(A_modifiers, "modifiers");
    INTERN(A_allowed, "allowed");
    INTERN(A_revenue_code, "revenue_code");
    INTERN(A_units, "units");
    INTERN(A_original_procedure, "original_procedure");
    INTERN(A_service_date, "service_date");
    INTERN(A_service_date_end, "service_date_end");
    INTERN(A_line_control, "line_control");
    INTERN(A_group, "group");
    INTERN(A_carc, "carc");
    INTERN(A_amount, "amount");
    INTERN(A_quantity, "quantity");
    INTERN(A_qualifier, "qualifier");
    INTERN(A_code, "code");
    INTERN(S_empty, "");
    INTERN(S_comma, ",");
    INTERN(S_claim, "claim");
    INTERN(S_line, "line");
    INTERN(S_22, "22");
    INTERN(S_4, "4");
    return PyModule_Create(&moddef);
}
