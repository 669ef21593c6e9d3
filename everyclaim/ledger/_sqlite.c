/* everyclaim.ledger._sqlite: rows into an open SQLite connection through SQLite's own C API (optional).
 *
 * Python's sqlite3 module binds every parameter of every statement through its adaptation machinery;
 * for the millions of rows of a large 835 that costs as much as SQLite's own work. This module binds
 * them straight from the row tuples, on the same connection and so in the same transaction:
 *
 *     register()                   once per process, before connections are opened: an auto-extension
 *                                  gives each new connection the SQL function everyclaim_attach()
 *     cur.execute("SELECT everyclaim_attach()")   notes that connection for the calling thread
 *     conn = connection()          that connection, as an opaque handle (valid while the caller keeps
 *                                  the Python connection checked out) that keeps the statements it
 *                                  prepared until it is freed
 *     page = Page([(sql, rows), ...])   the values read off the row tuples (needs the GIL)
 *     page.insert(conn)            for each batch in order, inserts its rows 32 at a time through ``sql``
 *                                  widened to 32 rows of ? parameters (the rest one at a time):
 *                                  int -> INTEGER, float -> REAL, str -> TEXT, None -> NULL, all
 *                                  without the GIL
 *
 * Reading the values and inserting them are apart so that a writer thread needs the GIL once per page:
 * the reading thread builds the Page, the writer only inserts it (post.py's _Writer).
 *
 * Both use SQLite's documented interfaces (sqlite3_auto_extension, sqlite3_context_db_handle). The
 * extension links the system's SQLite, the library the sqlite3 module loads; where the sqlite3 module
 * carries its own copy, everyclaim_attach() does not exist on its connections and db.py keeps the
 * Python path. tests/test_ledger_native.py checks that the tables are identical either way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>
#include <string.h>

static _Thread_local sqlite3 *attached;
static PyObject *IntegrityError, *OperationalError;

static void attach_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
    (void)argc;
    (void)argv;
    attached = sqlite3_context_db_handle(ctx);
    sqlite3_result_int(ctx, 1);
}

static int init_connection(sqlite3 *db, const char **err, const struct sqlite3_api_routines *api) {
    (void)err;
    (void)api;
    return sqlite3_create_function_v2(db, "everyclaim_attach", 0, SQLITE_UTF8, NULL, attach_fn, NULL, NULL, NULL);
}

static int registered;

static PyObject *register_py(PyObject *self, PyObject *unused) {
    if (!registered) {
        int rc = sqlite3_auto_extension((void (*)(void))init_connection);
        if (rc != SQLITE_OK) {
            PyErr_Format(OperationalError, "sqlite3_auto_extension failed (%d)", rc);
            return NULL;
        }
        registered = 1;
    }
    Py_RETURN_NONE;
}

/* the handle: the connection and the statements prepared on it for the pages of one file (kept between
   pages, finalized with the handle: a statement of 64 rows costs more to prepare than to run once) */
#define MAX_STMTS 16
typedef struct {
    PyObject_HEAD
    sqlite3 *db;
    int n;
    char *sql[MAX_STMTS];
    sqlite3_stmt *stmt[MAX_STMTS];
} ConnObject;

static void conn_dealloc(ConnObject *c) {
    for (int i = 0; i < c->n; i++) {
        sqlite3_finalize(c->stmt[i]);
        sqlite3_free(c->sql[i]);
    }
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyTypeObject ConnType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.ledger._sqlite.Connection",
    .tp_basicsize = sizeof(ConnObject),
    .tp_dealloc = (destructor)conn_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "a SQLite connection's handle and its prepared statements (from connection())",
};

/* the statement for ``sql`` (prepared once per handle; a full cache prepares without keeping) */
static int statement(ConnObject *c, const char *sql, sqlite3_stmt **out, int *kept) {
    for (int i = 0; i < c->n; i++)
        if (strcmp(c->sql[i], sql) == 0) {
            *out = c->stmt[i];
            *kept = 1;
            return SQLITE_OK;
        }
    int rc = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL);
    *kept = 0;
    if (rc != SQLITE_OK || c->n == MAX_STMTS) return rc;
    char *copy = sqlite3_mprintf("%s", sql);
    if (copy == NULL) return rc;
    c->sql[c->n] = copy;
    c->stmt[c->n++] = *out;
    *kept = 1;
    return rc;
}

static PyObject *connection_py(PyObject *self, PyObject *unused) {
    sqlite3 *db = attached;
    attached = NULL;
    if (db == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no connection: run SELECT everyclaim_attach() on it first");
        return NULL;
    }
    ConnObject *c = PyObject_New(ConnObject, &ConnType);
    if (c == NULL) return NULL;
    c->db = db;
    c->n = 0;
    return (PyObject *)c;
}

/* ------------------------------------------------------------------------------------------------ */
/* Page: values read off row tuples while holding the GIL, bound later without it                  */
/* ------------------------------------------------------------------------------------------------ */
typedef struct {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
    Py_ssize_t len;
    union {
        long long i;
        double d;
        const char *s;
    } v;
} Value;

typedef struct {
    char *sql;
    int width;
    Py_ssize_t n;
    Value *vals;
} Batch;

typedef struct {
    PyObject_HEAD
    PyObject *keep; /* the batches: the text values point into their str objects */
    Py_ssize_t nb, rows;
    Batch *bs;
} PageObject;

static int read_value(PyObject *o, Value *out) {
    if (o == Py_None) {
        out->type = SQLITE_NULL;
        return 0;
    }
    if (PyLong_CheckExact(o) || PyBool_Check(o)) {
        int overflow;
        out->v.i = PyLong_AsLongLongAndOverflow(o, &overflow);
        if (overflow) {
            PyErr_SetString(PyExc_OverflowError, "an integer beyond 64 bits cannot be stored in SQLite");
            return -1;
        }
        if (out->v.i == -1 && PyErr_Occurred()) return -1;
        out->type = SQLITE_INTEGER;
        return 0;
    }
    if (PyUnicode_CheckExact(o)) {
        out->v.s = PyUnicode_AsUTF8AndSize(o, &out->len); /* cached in the str, which the Page keeps */
        if (out->v.s == NULL) return -1;
        out->type = SQLITE_TEXT;
        return 0;
    }
    if (PyFloat_CheckExact(o)) {
        out->v.d = PyFloat_AS_DOUBLE(o);
        out->type = SQLITE_FLOAT;
        return 0;
    }
    PyErr_Format(PyExc_TypeError, "cannot bind a %.100s (int, float, str or None expected)", Py_TYPE(o)->tp_name);
    return -1;
}

/* count the ? of a statement text (the statement is prepared only at insert time, without the GIL) */
static int parameters(const char *sql) {
    int n = 0;
    for (; *sql; sql++)
        if (*sql == '?') n++;
    return n;
}

static int read_batch(PyObject *pair, Batch *b) {
    PyObject *sql, *rows;
    if (!PyTuple_Check(pair) || !PyArg_ParseTuple(pair, "UO", &sql, &rows)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "each batch is a (sql, rows) tuple");
        return -1;
    }
    Py_ssize_t len;
    const char *text = PyUnicode_AsUTF8AndSize(sql, &len);
    if (text == NULL) return -1;
    if ((b->sql = PyMem_Malloc((size_t)len + 1)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(b->sql, text, (size_t)len + 1);
    b->width = parameters(b->sql); /* our statements quote no '?' in text */
    PyObject *seq = PySequence_Fast(rows, "rows must be a sequence of tuples");
    if (seq == NULL) return -1;
    b->n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (b->n > 0 && b->width > 0 && (b->vals = PyMem_Malloc(sizeof(Value) * (size_t)b->n * (size_t)b->width)) == NULL) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t r = 0; r < b->n; r++) {
        PyObject *row = items[r];
        if (!PyTuple_Check(row) || PyTuple_GET_SIZE(row) != b->width) {
            PyErr_Format(PyExc_TypeError, "row %zd: a tuple of %d values expected", r, b->width);
            Py_DECREF(seq);
            return -1;
        }
        for (int j = 0; j < b->width; j++)
            if (read_value(PyTuple_GET_ITEM(row, j), &b->vals[r * b->width + j]) < 0) {
                Py_DECREF(seq);
                return -1;
            }
    }
    Py_DECREF(seq);
    return 0;
}

static void page_dealloc(PageObject *p) {
    for (Py_ssize_t i = 0; i < p->nb; i++) {
        PyMem_Free(p->bs[i].sql);
        PyMem_Free(p->bs[i].vals);
    }
    PyMem_Free(p->bs);
    Py_XDECREF(p->keep);
    Py_TYPE(p)->tp_free((PyObject *)p);
}

static PyObject *page_new(PyTypeObject *type, PyObject *args, PyObject *kw) {
    PyObject *batches;
    if (!PyArg_ParseTuple(args, "O", &batches)) return NULL;
    PyObject *seq = PySequence_Fast(batches, "batches must be a sequence of (sql, rows)");
    if (seq == NULL) return NULL;
    PageObject *p = (PageObject *)type->tp_alloc(type, 0);
    if (p == NULL) {
        Py_DECREF(seq);
        return NULL;
    }
    p->keep = seq; /* owns the batches, and so the rows and their values */
    p->nb = PySequence_Fast_GET_SIZE(seq);
    if ((p->bs = PyMem_Calloc(p->nb ? (size_t)p->nb : 1, sizeof(Batch))) == NULL) {
        Py_DECREF(p);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < p->nb; i++) {
        if (read_batch(PySequence_Fast_GET_ITEM(seq, i), &p->bs[i]) < 0) {
            Py_DECREF(p);
            return NULL;
        }
        p->rows += p->bs[i].n;
    }
    return (PyObject *)p;
}

static int bind(sqlite3_stmt *stmt, int i, const Value *v) {
    switch (v->type) {
    case SQLITE_INTEGER: return sqlite3_bind_int64(stmt, i, v->v.i);
    case SQLITE_FLOAT: return sqlite3_bind_double(stmt, i, v->v.d);
    case SQLITE_TEXT: return sqlite3_bind_text64(stmt, i, v->v.s, (sqlite3_uint64)v->len, SQLITE_STATIC, SQLITE_UTF8);
    default: return sqlite3_bind_null(stmt, i);
    }
}

/* ``sql`` (one row of ? after " VALUES ") with ``k`` rows: a statement that inserts k rows per step, so
   the statement's own work (opening the table's and its indexes' cursors, foreign-key set-up) is done once
   for k rows; NULL when out of memory or not of that form */
static char *rows_sql(const char *sql, int k) {
    const char *values = strstr(sql, " VALUES (");
    if (values == NULL) return NULL;
    const char *group = values + 8;
    size_t head = (size_t)(group - sql), glen = strlen(group);
    char *out = sqlite3_malloc64(head + (glen + 2) * (size_t)k + 1);
    if (out == NULL) return NULL;
    memcpy(out, sql, head);
    char *w = out + head;
    for (int i = 0; i < k; i++) {
        if (i) {
            *w++ = ',';
            *w++ = ' ';
        }
        memcpy(w, group, glen);
        w += glen;
    }
    *w = '\0';
    return out;
}

#define ROWS_PER_STEP 32

static int step_rows(ConnObject *c, const char *sql, const Batch *b, Py_ssize_t *r, int k) {
    /* rows r.. of b, k per step, while k of them are left */
    sqlite3_stmt *stmt = NULL;
    int kept = 0;
    int rc = statement(c, sql, &stmt, &kept);
    if (rc == SQLITE_OK && sqlite3_bind_parameter_count(stmt) != b->width * k) rc = SQLITE_RANGE;
    while (rc == SQLITE_OK && b->n - *r >= k) {
        const Value *v = &b->vals[*r * b->width];
        for (int j = 0; j < b->width * k && rc == SQLITE_OK; j++) rc = bind(stmt, j + 1, &v[j]);
        if (rc != SQLITE_OK) break;
        rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE) break;
        rc = sqlite3_reset(stmt);
        *r += k;
    }
    if (stmt != NULL) {
        if (rc != SQLITE_OK) sqlite3_reset(stmt); /* a kept statement must not stay busy; keeps the error */
        sqlite3_clear_bindings(stmt);              /* no pointer into this page's strings outlives it */
        if (!kept) sqlite3_finalize(stmt);
    }
    return rc;
}

static int step_batch(ConnObject *c, const Batch *b) {
    Py_ssize_t r = 0;
    int rc = SQLITE_OK;
    if (b->n >= ROWS_PER_STEP && b->width * ROWS_PER_STEP <= 32766) {
        char *many = rows_sql(b->sql, ROWS_PER_STEP);
        if (many == NULL) return SQLITE_NOMEM;
        rc = step_rows(c, many, b, &r, ROWS_PER_STEP);
        sqlite3_free(many);
    }
    if (rc == SQLITE_OK && r < b->n) rc = step_rows(c, b->sql, b, &r, 1);
    return rc;
}

/* page.insert(connection) -> rows inserted */
static PyObject *page_insert(PageObject *p, PyObject *handle) {
    if (!Py_IS_TYPE(handle, &ConnType)) {
        PyErr_SetString(PyExc_TypeError, "insert() takes the handle connection() gave");
        return NULL;
    }
    ConnObject *c = (ConnObject *)handle;
    int rc = SQLITE_OK;
    char *msg = NULL;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < p->nb && rc == SQLITE_OK; i++) rc = step_batch(c, &p->bs[i]);
    if (rc != SQLITE_OK) msg = sqlite3_mprintf("%s", sqlite3_errmsg(c->db));
    Py_END_ALLOW_THREADS
    if (rc != SQLITE_OK) {
        PyErr_SetString((rc & 0xff) == SQLITE_CONSTRAINT ? IntegrityError : OperationalError,
                        msg ? msg : "SQLite error");
        sqlite3_free(msg);
        return NULL;
    }
    return PyLong_FromSsize_t(p->rows);
}

static PyMethodDef page_methods[] = {
    {"insert", (PyCFunction)page_insert, METH_O,
     "insert(connection) -> count: each batch's rows inserted in order, without the GIL"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject PageType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "everyclaim.ledger._sqlite.Page",
    .tp_basicsize = sizeof(PageObject),
    .tp_dealloc = (destructor)page_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_methods = page_methods,
    .tp_new = page_new,
    .tp_doc = "Page([(sql, rows), ...]): the values of the rows, read now, inserted by insert(connection)",
};

static PyMethodDef methods[] = {
    {"register", register_py, METH_NOARGS,
     "register(): every SQLite connection opened from now on has the SQL function everyclaim_attach()"},
    {"connection", connection_py, METH_NOARGS,
     "connection(): the connection that last ran everyclaim_attach() in this thread, as a handle"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moddef = {PyModuleDef_HEAD_INIT, "_sqlite", "Rows into SQLite through its C API.", -1,
                                    methods};

PyMODINIT_FUNC PyInit__sqlite(void) {
    PyObject *sqlite3_mod = PyImport_ImportModule("sqlite3");
    if (sqlite3_mod == NULL) return NULL;
    IntegrityError = PyObject_GetAttrString(sqlite3_mod, "IntegrityError");
    OperationalError = PyObject_GetAttrString(sqlite3_mod, "OperationalError");
    Py_DECREF(sqlite3_mod);
    if (IntegrityError == NULL || OperationalError == NULL) return NULL;
    if (PyType_Ready(&PageType) < 0 || PyType_Ready(&ConnType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moddef);
    if (m == NULL) return NULL;
    if (PyModule_AddObjectRef(m, "Page", (PyObject *)&PageType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
