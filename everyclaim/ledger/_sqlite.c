/* everyclaim.ledger._sqlite: rows into an open SQLite connection through SQLite's own C API (optional).
 *
 * Python's sqlite3 module binds every parameter of every statement through its adaptation machinery;
 * for the millions of rows of a large 835 that costs as much as SQLite's own work. This module binds
 * them straight from the row tuples, on the same connection and so in the same transaction:
 *
 *     register()                      once per process, before connections are opened: an auto-extension
 *                                     gives each new connection the SQL function everyclaim_attach()
 *     cur.execute("SELECT everyclaim_attach()")   notes that connection for the calling thread
 *     insert([(sql, rows), ...])      for each batch, prepares ``sql`` (one row of ? parameters) on it
 *                                     and steps it once per row: int -> INTEGER, float -> REAL,
 *                                     str -> TEXT, None -> NULL; the GIL is released while SQLite works
 *
 * Both use SQLite's documented interfaces (sqlite3_auto_extension, sqlite3_context_db_handle). The
 * extension links the system's SQLite, the library the sqlite3 module loads; where the sqlite3 module
 * carries its own copy, everyclaim_attach() does not exist on its connections and db.py keeps the
 * Python path. tests/test_ledger_native.py checks that the tables are identical either way.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <sqlite3.h>

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

/* a value read off a row while holding the GIL, bound later without it */
typedef struct {
    int type; /* SQLITE_NULL, SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT */
    Py_ssize_t len;
    union {
        long long i;
        double d;
        const char *s;
    } v;
} Value;

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
        /* the UTF-8 buffer lives as long as the str, which the caller's rows hold until insert returns */
        out->v.s = PyUnicode_AsUTF8AndSize(o, &out->len);
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

static int bind(sqlite3_stmt *stmt, int i, const Value *v) {
    switch (v->type) {
    case SQLITE_INTEGER: return sqlite3_bind_int64(stmt, i, v->v.i);
    case SQLITE_FLOAT: return sqlite3_bind_double(stmt, i, v->v.d);
    case SQLITE_TEXT: return sqlite3_bind_text64(stmt, i, v->v.s, (sqlite3_uint64)v->len, SQLITE_STATIC, SQLITE_UTF8);
    default: return sqlite3_bind_null(stmt, i);
    }
}

/* one table's rows: its prepared statement and the values read off its tuples */
typedef struct {
    sqlite3_stmt *stmt;
    int width;
    Py_ssize_t n;
    Value *vals;
} Batch;

static int read_batch(sqlite3 *db, PyObject *pair, Batch *b, int *rc) {
    PyObject *sql, *rows;
    if (!PyTuple_Check(pair) || !PyArg_ParseTuple(pair, "UO", &sql, &rows)) {
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "each batch is a (sql, rows) tuple");
        return -1;
    }
    const char *text = PyUnicode_AsUTF8(sql);
    if (text == NULL) return -1;
    *rc = sqlite3_prepare_v2(db, text, -1, &b->stmt, NULL);
    if (*rc != SQLITE_OK) return 1;
    b->width = sqlite3_bind_parameter_count(b->stmt);
    PyObject *seq = PySequence_Fast(rows, "rows must be a sequence of tuples");
    if (seq == NULL) return -1;
    b->n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    if (b->n > 0 && b->width > 0) {
        b->vals = PyMem_Malloc(sizeof(Value) * (size_t)b->n * (size_t)b->width);
        if (b->vals == NULL) {
            Py_DECREF(seq);
            PyErr_NoMemory();
            return -1;
        }
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
    /* the values point into str objects the caller's rows keep alive until insert returns */
    Py_DECREF(seq);
    return 0;
}

static int step_batch(Batch *b) {
    int rc = SQLITE_OK;
    for (Py_ssize_t r = 0; r < b->n; r++) {
        for (int j = 0; j < b->width && rc == SQLITE_OK; j++) rc = bind(b->stmt, j + 1, &b->vals[r * b->width + j]);
        if (rc != SQLITE_OK) return rc;
        rc = sqlite3_step(b->stmt);
        if (rc != SQLITE_DONE) return rc;
        rc = sqlite3_reset(b->stmt);
        if (rc != SQLITE_OK) return rc;
    }
    return rc;
}

/* insert(batches): each (sql, rows) in order. The values are read off the tuples first (with the GIL),
   then bound and stepped without it, so another thread (the reader of the next page) runs meanwhile. */
static PyObject *insert_py(PyObject *self, PyObject *batches) {
    sqlite3 *db = attached;
    attached = NULL;
    if (db == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "no connection: run SELECT everyclaim_attach() on it first");
        return NULL;
    }
    PyObject *seq = PySequence_Fast(batches, "batches must be a sequence of (sql, rows)");
    if (seq == NULL) return NULL;
    Py_ssize_t nb = PySequence_Fast_GET_SIZE(seq), total = 0;
    Batch *bs = PyMem_Calloc(nb ? (size_t)nb : 1, sizeof(Batch));
    PyObject *result = NULL;
    int rc = SQLITE_OK, got = 0;
    if (bs == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < nb && got == 0; i++) got = read_batch(db, PySequence_Fast_GET_ITEM(seq, i), &bs[i], &rc);
    if (got < 0) goto done;
    if (got == 0) {
        Py_BEGIN_ALLOW_THREADS
        for (Py_ssize_t i = 0; i < nb && rc == SQLITE_OK; i++) rc = step_batch(&bs[i]);
        Py_END_ALLOW_THREADS
    }
    if (rc != SQLITE_OK) {
        PyErr_SetString((rc & 0xff) == SQLITE_CONSTRAINT ? IntegrityError : OperationalError, sqlite3_errmsg(db));
        goto done;
    }
    for (Py_ssize_t i = 0; i < nb; i++) total += bs[i].n;
    result = PyLong_FromSsize_t(total);
done:
    if (bs != NULL) {
        for (Py_ssize_t i = 0; i < nb; i++) {
            PyMem_Free(bs[i].vals);
            if (bs[i].stmt != NULL) sqlite3_finalize(bs[i].stmt);
        }
        PyMem_Free(bs);
    }
    Py_DECREF(seq);
    return result;
}

static PyMethodDef methods[] = {
    {"register", register_py, METH_NOARGS,
     "register(): every SQLite connection opened from now on has the SQL function everyclaim_attach()"},
    {"insert", insert_py, METH_O,
     "insert([(sql, rows), ...]) -> count: for each batch in order, step the one-row INSERT ``sql`` for each "
     "tuple of ``rows``, on the connection that last ran everyclaim_attach() in this thread"},
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
    return PyModule_Create(&moddef);
}
