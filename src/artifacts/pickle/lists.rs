//! The two globals policies: what a tensor checkpoint needs (allow) and what the peer
//! scanners flag (deny). docs/pickle.md gives the reason for every entry.

/// Python 2 names that `pickle` maps to Python 3 ones when it loads protocols 0–2
/// (`fix_imports`): a pickle may name `__builtin__.eval` or `SimpleHTTPServer` to dodge a
/// list of Python 3 names. The two tables are CPython 3.11's `_compat_pickle.NAME_MAPPING`
/// and `IMPORT_MAPPING`, verbatim; two entries are stricter on purpose: every `exceptions`
/// name maps to `builtins`, and so does `__builtins__` (no module of that name exists, but
/// mapping it costs nothing). A pickle may switch protocols mid-stream with a second
/// PROTO, so the mapping is applied whatever the protocol, and the caller judges both the
/// name as written and the mapped one.
pub(super) fn python3_name(module: &str, name: &str) -> (String, String) {
    let renamed = match (module, name) {
        ("UserDict", "IterableUserDict") => Some(("collections", "UserDict")),
        ("UserDict", "UserDict") => Some(("collections", "UserDict")),
        ("UserList", "UserList") => Some(("collections", "UserList")),
        ("UserString", "UserString") => Some(("collections", "UserString")),
        ("__builtin__", "basestring") => Some(("builtins", "str")),
        ("__builtin__", "intern") => Some(("sys", "intern")),
        ("__builtin__", "long") => Some(("builtins", "int")),
        ("__builtin__", "reduce") => Some(("functools", "reduce")),
        ("__builtin__", "unichr") => Some(("builtins", "chr")),
        ("__builtin__", "unicode") => Some(("builtins", "str")),
        ("__builtin__", "xrange") => Some(("builtins", "range")),
        ("_multiprocessing", "Connection") => Some(("multiprocessing.connection", "Connection")),
        ("_socket", "fromfd") => Some(("socket", "fromfd")),
        ("exceptions", "ArithmeticError") => Some(("builtins", "ArithmeticError")),
        ("exceptions", "AssertionError") => Some(("builtins", "AssertionError")),
        ("exceptions", "AttributeError") => Some(("builtins", "AttributeError")),
        ("exceptions", "BaseException") => Some(("builtins", "BaseException")),
        ("exceptions", "BufferError") => Some(("builtins", "BufferError")),
        ("exceptions", "BytesWarning") => Some(("builtins", "BytesWarning")),
        ("exceptions", "DeprecationWarning") => Some(("builtins", "DeprecationWarning")),
        ("exceptions", "EOFError") => Some(("builtins", "EOFError")),
        ("exceptions", "EnvironmentError") => Some(("builtins", "EnvironmentError")),
        ("exceptions", "Exception") => Some(("builtins", "Exception")),
        ("exceptions", "FloatingPointError") => Some(("builtins", "FloatingPointError")),
        ("exceptions", "FutureWarning") => Some(("builtins", "FutureWarning")),
        ("exceptions", "GeneratorExit") => Some(("builtins", "GeneratorExit")),
        ("exceptions", "IOError") => Some(("builtins", "IOError")),
        ("exceptions", "ImportError") => Some(("builtins", "ImportError")),
        ("exceptions", "ImportWarning") => Some(("builtins", "ImportWarning")),
        ("exceptions", "IndentationError") => Some(("builtins", "IndentationError")),
        ("exceptions", "IndexError") => Some(("builtins", "IndexError")),
        ("exceptions", "KeyError") => Some(("builtins", "KeyError")),
        ("exceptions", "KeyboardInterrupt") => Some(("builtins", "KeyboardInterrupt")),
        ("exceptions", "LookupError") => Some(("builtins", "LookupError")),
        ("exceptions", "MemoryError") => Some(("builtins", "MemoryError")),
        ("exceptions", "NameError") => Some(("builtins", "NameError")),
        ("exceptions", "NotImplementedError") => Some(("builtins", "NotImplementedError")),
        ("exceptions", "OSError") => Some(("builtins", "OSError")),
        ("exceptions", "OverflowError") => Some(("builtins", "OverflowError")),
        ("exceptions", "PendingDeprecationWarning") => Some(("builtins", "PendingDeprecationWarning")),
        ("exceptions", "ReferenceError") => Some(("builtins", "ReferenceError")),
        ("exceptions", "RuntimeError") => Some(("builtins", "RuntimeError")),
        ("exceptions", "RuntimeWarning") => Some(("builtins", "RuntimeWarning")),
        ("exceptions", "StandardError") => Some(("builtins", "Exception")),
        ("exceptions", "StopIteration") => Some(("builtins", "StopIteration")),
        ("exceptions", "SyntaxError") => Some(("builtins", "SyntaxError")),
        ("exceptions", "SyntaxWarning") => Some(("builtins", "SyntaxWarning")),
        ("exceptions", "SystemError") => Some(("builtins", "SystemError")),
        ("exceptions", "SystemExit") => Some(("builtins", "SystemExit")),
        ("exceptions", "TabError") => Some(("builtins", "TabError")),
        ("exceptions", "TypeError") => Some(("builtins", "TypeError")),
        ("exceptions", "UnboundLocalError") => Some(("builtins", "UnboundLocalError")),
        ("exceptions", "UnicodeDecodeError") => Some(("builtins", "UnicodeDecodeError")),
        ("exceptions", "UnicodeEncodeError") => Some(("builtins", "UnicodeEncodeError")),
        ("exceptions", "UnicodeError") => Some(("builtins", "UnicodeError")),
        ("exceptions", "UnicodeTranslateError") => Some(("builtins", "UnicodeTranslateError")),
        ("exceptions", "UnicodeWarning") => Some(("builtins", "UnicodeWarning")),
        ("exceptions", "UserWarning") => Some(("builtins", "UserWarning")),
        ("exceptions", "ValueError") => Some(("builtins", "ValueError")),
        ("exceptions", "Warning") => Some(("builtins", "Warning")),
        ("exceptions", "ZeroDivisionError") => Some(("builtins", "ZeroDivisionError")),
        ("itertools", "ifilter") => Some(("builtins", "filter")),
        ("itertools", "ifilterfalse") => Some(("itertools", "filterfalse")),
        ("itertools", "imap") => Some(("builtins", "map")),
        ("itertools", "izip") => Some(("builtins", "zip")),
        ("itertools", "izip_longest") => Some(("itertools", "zip_longest")),
        ("multiprocessing", "AuthenticationError") => Some(("multiprocessing.context", "AuthenticationError")),
        ("multiprocessing", "BufferTooShort") => Some(("multiprocessing.context", "BufferTooShort")),
        ("multiprocessing", "ProcessError") => Some(("multiprocessing.context", "ProcessError")),
        ("multiprocessing", "TimeoutError") => Some(("multiprocessing.context", "TimeoutError")),
        ("multiprocessing.forking", "Popen") => Some(("multiprocessing.popen_fork", "Popen")),
        ("multiprocessing.process", "Process") => Some(("multiprocessing.context", "Process")),
        ("socket", "_socketobject") => Some(("socket", "SocketType")),
        ("urllib", "ContentTooShortError") => Some(("urllib.error", "ContentTooShortError")),
        ("urllib", "getproxies") => Some(("urllib.request", "getproxies")),
        ("urllib", "pathname2url") => Some(("urllib.request", "pathname2url")),
        ("urllib", "quote") => Some(("urllib.parse", "quote")),
        ("urllib", "quote_plus") => Some(("urllib.parse", "quote_plus")),
        ("urllib", "unquote") => Some(("urllib.parse", "unquote")),
        ("urllib", "unquote_plus") => Some(("urllib.parse", "unquote_plus")),
        ("urllib", "url2pathname") => Some(("urllib.request", "url2pathname")),
        ("urllib", "urlcleanup") => Some(("urllib.request", "urlcleanup")),
        ("urllib", "urlencode") => Some(("urllib.parse", "urlencode")),
        ("urllib", "urlopen") => Some(("urllib.request", "urlopen")),
        ("urllib", "urlretrieve") => Some(("urllib.request", "urlretrieve")),
        ("urllib2", "HTTPError") => Some(("urllib.error", "HTTPError")),
        ("urllib2", "URLError") => Some(("urllib.error", "URLError")),
        ("whichdb", "whichdb") => Some(("dbm", "whichdb")),
        _ => None,
    };
    if let Some((m, n)) = renamed {
        return (m.to_string(), n.to_string());
    }
    let module = match module {
        "BaseHTTPServer" => "http.server",
        "CGIHTTPServer" => "http.server",
        "ConfigParser" => "configparser",
        "Cookie" => "http.cookies",
        "Dialog" => "tkinter.dialog",
        "DocXMLRPCServer" => "xmlrpc.server",
        "FileDialog" => "tkinter.filedialog",
        "HTMLParser" => "html.parser",
        "Queue" => "queue",
        "ScrolledText" => "tkinter.scrolledtext",
        "SimpleDialog" => "tkinter.simpledialog",
        "SimpleHTTPServer" => "http.server",
        "SimpleXMLRPCServer" => "xmlrpc.server",
        "SocketServer" => "socketserver",
        "StringIO" => "io",
        "Tix" => "tkinter.tix",
        "Tkconstants" => "tkinter.constants",
        "Tkdnd" => "tkinter.dnd",
        "Tkinter" => "tkinter",
        "UserDict" => "collections",
        "UserList" => "collections",
        "UserString" => "collections",
        "__builtin__" => "builtins",
        "_abcoll" => "collections.abc",
        "_elementtree" => "xml.etree.ElementTree",
        "_winreg" => "winreg",
        "anydbm" => "dbm",
        "cPickle" => "pickle",
        "cStringIO" => "io",
        "commands" => "subprocess",
        "cookielib" => "http.cookiejar",
        "copy_reg" => "copyreg",
        "dbhash" => "dbm.bsd",
        "dbm" => "dbm.ndbm",
        "dumbdbm" => "dbm.dumb",
        "dummy_thread" => "_dummy_thread",
        "gdbm" => "dbm.gnu",
        "htmlentitydefs" => "html.entities",
        "httplib" => "http.client",
        "markupbase" => "_markupbase",
        "repr" => "reprlib",
        "robotparser" => "urllib.robotparser",
        "test.test_support" => "test.support",
        "thread" => "_thread",
        "tkColorChooser" => "tkinter.colorchooser",
        "tkCommonDialog" => "tkinter.commondialog",
        "tkFileDialog" => "tkinter.filedialog",
        "tkFont" => "tkinter.font",
        "tkMessageBox" => "tkinter.messagebox",
        "tkSimpleDialog" => "tkinter.simpledialog",
        "ttk" => "tkinter.ttk",
        "urllib2" => "urllib.request",
        "urlparse" => "urllib.parse",
        "whichdb" => "dbm",
        "xmlrpclib" => "xmlrpc.client",
        "exceptions" | "__builtins__" => "builtins",
        other => other,
    };
    (module.to_string(), name.to_string())
}

/// Globals a PyTorch or NumPy checkpoint needs to load its tensors; every one of them
/// only builds a value from its arguments (docs/pickle.md).
const ALLOWED: &[&str] = &[
    // torch.save: tensors and parameters
    "torch._utils._rebuild_tensor",
    "torch._utils._rebuild_tensor_v2",
    "torch._utils._rebuild_tensor_v3",
    "torch._utils._rebuild_parameter",
    "torch._utils._rebuild_parameter_with_state",
    "torch._utils._rebuild_qtensor",
    "torch._utils._rebuild_sparse_tensor",
    "torch._utils._rebuild_meta_tensor_no_storage",
    "torch.nn.parameter.Parameter",
    // storages (legacy typed storages and the current ones)
    "torch.storage.TypedStorage",
    "torch.storage.UntypedStorage",
    "torch.storage._LegacyStorage",
    "torch.FloatStorage",
    "torch.DoubleStorage",
    "torch.HalfStorage",
    "torch.BFloat16Storage",
    "torch.LongStorage",
    "torch.IntStorage",
    "torch.ShortStorage",
    "torch.CharStorage",
    "torch.ByteStorage",
    "torch.BoolStorage",
    "torch.ComplexFloatStorage",
    "torch.ComplexDoubleStorage",
    "torch.QInt8Storage",
    "torch.QUInt8Storage",
    "torch.QInt32Storage",
    "torch.QUInt4x2Storage",
    "torch.QUInt2x4Storage",
    // metadata objects
    "torch.device",
    "torch.Size",
    "torch.dtype",
    "torch.layout",
    "torch.strided",
    "torch.sparse_coo",
    "torch.memory_format",
    "torch.contiguous_format",
    "torch.channels_last",
    "torch.preserve_format",
    "torch.serialization._get_layout",
    // dtypes are pickled as module attributes
    "torch.float32",
    "torch.float",
    "torch.float64",
    "torch.double",
    "torch.float16",
    "torch.half",
    "torch.bfloat16",
    "torch.int8",
    "torch.int16",
    "torch.short",
    "torch.int32",
    "torch.int",
    "torch.int64",
    "torch.long",
    "torch.uint8",
    "torch.bool",
    "torch.complex64",
    "torch.complex128",
    "torch.cfloat",
    "torch.cdouble",
    "torch.qint8",
    "torch.quint8",
    "torch.qint32",
    "torch.float8_e4m3fn",
    "torch.float8_e5m2",
    // state_dict containers
    "collections.OrderedDict",
    // numpy arrays (numpy 1 and numpy 2 module paths)
    "numpy.core.multiarray._reconstruct",
    "numpy._core.multiarray._reconstruct",
    "numpy.core.multiarray.scalar",
    "numpy._core.multiarray.scalar",
    "numpy.core.numeric._frombuffer",
    "numpy._core.numeric._frombuffer",
    "numpy.ndarray",
    "numpy.dtype",
    // joblib's stand-in for each numpy array; its data follows in the stream (see `joblib_array`)
    "joblib.numpy_pickle.NumpyArrayWrapper",
    // bytes in protocols 0-2 are pickled as _codecs.encode(str, 'latin1')
    "_codecs.encode",
    // plain value constructors
    "builtins.set",
    "builtins.frozenset",
    "builtins.complex",
    "builtins.slice",
    "builtins.range",
    "builtins.bytearray",
    "builtins.bytes",
];

/// Modules whose every attribute is denied (a module also covers its submodules).
const DENIED_MODULES: &[(&str, &str)] = &[
    ("os", "operating system access (os.system, os.popen, os.exec*)"),
    ("posix", "operating system access (the module behind os on Unix)"),
    ("nt", "operating system access (the module behind os on Windows)"),
    ("subprocess", "runs programs"),
    ("_posixsubprocess", "runs programs"),
    ("pty", "runs programs in a pseudo-terminal (pty.spawn)"),
    ("sys", "interpreter internals (sys.modules, sys.settrace)"),
    ("runpy", "runs Python modules and files"),
    ("code", "runs Python source (code.InteractiveInterpreter)"),
    ("codeop", "compiles Python source"),
    ("types", "builds code and function objects"),
    ("marshal", "loads code objects"),
    ("importlib", "imports arbitrary modules"),
    ("imp", "imports arbitrary modules"),
    ("_imp", "imports arbitrary modules"),
    ("pkgutil", "imports arbitrary modules (pkgutil.resolve_name)"),
    ("zipimport", "imports code from archives"),
    ("ctypes", "calls native code"),
    ("_ctypes", "calls native code"),
    ("pickle", "unpickles nested data outside the scan"),
    ("_pickle", "unpickles nested data outside the scan"),
    ("dill", "unpickles code"),
    ("cloudpickle", "unpickles code"),
    ("shelve", "unpickles files"),
    ("socket", "network access"),
    ("_socket", "network access"),
    ("ssl", "network access"),
    ("asyncio", "runs programs and opens connections (asyncio.subprocess)"),
    ("multiprocessing", "starts processes"),
    ("_thread", "starts threads"),
    ("threading", "starts threads"),
    ("signal", "changes signal handlers"),
    ("shutil", "file system changes (rmtree, move, copy)"),
    ("tempfile", "creates files"),
    ("webbrowser", "opens URLs and runs a browser"),
    ("urllib", "network access"),
    ("http", "network access"),
    ("ftplib", "network access"),
    ("smtplib", "network access"),
    ("telnetlib", "network access"),
    ("poplib", "network access"),
    ("imaplib", "network access"),
    ("nntplib", "network access"),
    ("xmlrpc", "network access"),
    ("requests", "network access"),
    ("aiohttp", "network access"),
    ("httpx", "network access"),
    ("pip", "installs and runs packages (pip.main)"),
    ("setuptools", "builds and runs packages"),
    ("distutils", "runs compilers and programs (distutils.spawn)"),
    ("ensurepip", "installs packages"),
    ("venv", "creates environments and runs programs"),
    ("bdb", "debugger that runs code"),
    ("pdb", "debugger that runs code (pdb.run)"),
    ("timeit", "runs Python source (timeit.timeit)"),
    ("cProfile", "runs Python source (cProfile.run)"),
    ("profile", "runs Python source (profile.run)"),
    ("trace", "runs Python source"),
    ("doctest", "runs Python source"),
    ("pydoc", "runs programs (pydoc.pipepager) and imports (pydoc.locate)"),
    ("pipes", "runs shell commands"),
    ("idlelib", "runs Python source"),
    ("lib2to3", "imports and rewrites code"),
    ("_osx_support", "runs programs"),
    ("_aix_support", "runs programs"),
    ("logging.config", "runs a configuration server and imports names"),
    ("sqlite3", "opens database files and loads extensions"),
    ("pathlib", "file system access (Path.write_text, Path.unlink)"),
    ("glob", "file system access"),
    ("fileinput", "file system access"),
    ("io", "file access (io.open, io.FileIO)"),
    ("_io", "file access (_io.open, _io.FileIO)"),
    ("gc", "reaches every live object (gc.get_objects)"),
    ("inspect", "reaches frames and globals"),
    ("torch.hub", "downloads and runs code (torch.hub.load)"),
    ("torch._inductor", "compiles and runs code (codecache.compile_file)"),
    ("torch.utils.cpp_extension", "compiles and loads native code"),
    ("torch.jit", "loads and runs TorchScript"),
    ("torch._dynamo", "evaluates guard expressions (GuardBuilder.get)"),
    ("torch.fx.experimental.symbolic_shapes", "evaluates expressions (ShapeEnv.evaluate_guards_expression)"),
    ("torch.utils._config_module", "loads a nested pickle (ConfigModule.load_config)"),
    ("torch.utils.bottleneck", "runs profilers on code"),
    ("torch.utils.collect_env", "runs programs"),
    ("torch.utils.data.datapipes.utils.decoder", "loads nested pickles"),
    ("numpy.testing", "runs Python source (numpy.testing._private.utils.runstring)"),
    ("numpy.f2py", "compiles and runs code"),
    ("numpy.distutils", "runs compilers and programs"),
    ("keras.layers", "Lambda layers carry code"),
    ("joblib._memmapping_reducer", "opens files"),
    // Second wave (issue 18; docs/pickle.md says how the peers' lists were compared).
    ("test", "CPython's test suite helpers run programs and code (test.support.script_helper.assert_python_ok)"),
    ("unittest", "imports and runs test modules; unittest.mock calls what it is given"),
    ("_testcapi", "runs Python source in a subinterpreter (run_in_subinterp)"),
    ("_testinternalcapi", "runs Python source in a subinterpreter"),
    ("_xxsubinterpreters", "runs Python source in a subinterpreter (run_string)"),
    ("_interpreters", "runs Python source in a subinterpreter"),
    ("_xxinterpchannels", "subinterpreter internals"),
    ("_interpchannels", "subinterpreter internals"),
    ("_interpqueues", "subinterpreter internals"),
    ("_testbuffer", "CPython test module"),
    ("_testmultiphase", "CPython test module"),
    ("_testsinglephase", "CPython test module"),
    ("_testimportmultiple", "CPython test module"),
    ("_ctypes_test", "CPython test module (native calls)"),
    ("xxsubtype", "CPython test module"),
    ("_pyrepl", "pagers run shell commands (_pyrepl.pager.pipe_pager, tempfile_pager)"),
    ("site", "runs .pth files and imports modules (site.addsitedir, execsitecustomize)"),
    ("_sitebuiltins", "reads files and runs a pager (_Printer, _Helper)"),
    ("logging.handlers", "opens files and sockets (RotatingFileHandler, SysLogHandler, SocketHandler)"),
    ("functools", "wraps and calls callables (partial, reduce, update_wrapper)"),
    ("_functools", "wraps and calls callables"),
    ("operator", "reaches and changes any attribute or item, calls any method"),
    ("_operator", "reaches and changes any attribute or item, calls any method"),
    ("_frozen_importlib", "importlib under another name: imports and calls anything"),
    ("_frozen_importlib_external", "importlib under another name: loads source files"),
    ("_signal", "changes signal handlers"),
    ("_sqlite3", "opens database files and loads extensions"),
    ("socketserver", "binds and listens on sockets"),
    ("atexit", "registers calls for later"),
    ("platform", "runs programs (platform.popen, _syscmd_file)"),
    ("tarfile", "writes and extracts files"),
    ("zipfile", "writes and extracts files"),
    ("mmap", "maps files and memory"),
    ("compileall", "compiles and writes files"),
    ("py_compile", "compiles and writes files"),
    ("linecache", "reads files"),
    ("filecmp", "reads files"),
    ("syslog", "writes to the system log"),
    ("pexpect", "runs programs"),
    ("tkinter", "Tcl's exec runs programs"),
    ("_tkinter", "Tcl's exec runs programs (TkappType.eval)"),
    ("dbm", "creates and truncates files"),
    ("winreg", "changes the Windows registry"),
    ("numpy.lib._npyio_impl", "numpy.load's implementation unpickles (allow_pickle) and writes files"),
    ("numpy.lib.npyio", "numpy.load's implementation in numpy 1 unpickles and writes files"),
    ("numpy.lib._datasource", "downloads URLs and writes files (DataSource.open)"),
    ("numpy.lib.format", "read_array unpickles (allow_pickle), open_memmap creates files"),
    ("numpy.lib._format_impl", "read_array unpickles (allow_pickle), open_memmap creates files"),
    ("numpy.ctypeslib", "loads native libraries (load_library)"),
    ("numpy.matlib", "re-exports numpy.load, save, fromfile and memmap"),
    ("torch.multiprocessing", "rebuild helpers call classes named in the data; spawns processes"),
    ("torch.package", "imports and runs code from a package archive (PackageImporter)"),
    ("torch.utils.model_zoo", "downloads and loads checkpoints (load_url)"),
    ("torch.distributed.run", "starts processes"),
    ("torch.distributed.launch", "starts processes"),
    ("torch.distributed.elastic", "starts processes"),
];

/// Single attributes denied in modules that are otherwise ordinary.
const DENIED_NAMES: &[(&str, &str)] = &[
    ("builtins.eval", "evaluates Python source"),
    ("builtins.exec", "runs Python source"),
    ("builtins.execfile", "runs a Python file"),
    ("builtins.compile", "compiles Python source"),
    ("builtins.__import__", "imports arbitrary modules"),
    ("builtins.getattr", "reaches any attribute (getattr chains lead to os.system)"),
    ("builtins.setattr", "changes any attribute"),
    ("builtins.delattr", "removes any attribute"),
    ("builtins.open", "opens files"),
    ("builtins.input", "reads the terminal"),
    ("builtins.breakpoint", "starts a debugger"),
    ("builtins.globals", "reaches module globals"),
    ("builtins.locals", "reaches local variables"),
    ("builtins.vars", "reaches object namespaces"),
    ("builtins.help", "runs a pager program"),
    ("builtins.exit", "ends the process"),
    ("builtins.quit", "ends the process"),
    ("builtins.memoryview", "raw memory views"),
    ("builtins.__build_class__", "creates classes from code"),
    ("builtins.type", "creates classes"),
    ("builtins.object", "object.__new__ / __reduce__ gadgets"),
    ("builtins.super", "attribute gadget"),
    ("builtins.classmethod", "function gadget"),
    ("builtins.staticmethod", "function gadget"),
    ("builtins.property", "function gadget"),
    ("builtins.map", "calls a function lazily (gadget)"),
    ("builtins.filter", "calls a function lazily (gadget)"),
    ("builtins.apply", "calls a function"),
    ("builtins.hasattr", "runs attribute lookups (property code)"),
    ("builtins.dir", "runs __dir__"),
    ("builtins.aiter", "calls __aiter__"),
    ("builtins.anext", "calls __anext__"),
    ("builtins.copyright", "reads files and runs a pager (_sitebuiltins._Printer)"),
    ("builtins.credits", "reads files and runs a pager (_sitebuiltins._Printer)"),
    ("builtins.license", "reads files and runs a pager (_sitebuiltins._Printer)"),
    ("copyreg._reconstructor", "calls a constructor named in the data"),
    ("copyreg.__newobj__", "calls a constructor named in the data"),
    ("copyreg.__newobj_ex__", "calls a constructor named in the data"),
    ("torch.load", "loads a nested pickle"),
    ("torch.serialization.load", "loads a nested pickle"),
    ("torch.serialization._load", "loads a nested pickle"),
    ("torch.storage._load_from_bytes", "loads a nested pickle (torch.load)"),
    ("torch.save", "writes files"),
    ("torch._load_global_deps", "loads native libraries"),
    ("torch.ops.load_library", "loads native libraries"),
    ("torch.classes.load_library", "loads native libraries"),
    ("numpy.load", "loads a nested pickle (allow_pickle)"),
    ("numpy.save", "writes files"),
    ("numpy.fromfile", "reads files"),
    ("numpy.memmap", "maps files"),
    ("numpy.savez", "writes files"),
    ("numpy.savez_compressed", "writes files"),
    ("numpy.savetxt", "writes files"),
    ("numpy.loadtxt", "reads files"),
    ("numpy.genfromtxt", "reads files and URLs"),
    ("numpy.fromregex", "reads files"),
    ("numpy.DataSource", "downloads URLs and writes files"),
    ("numpy.ndarray.tofile", "writes files"),
    ("numpy.ndarray.dump", "writes files"),
    ("joblib.load", "loads a nested pickle"),
    ("joblib.numpy_pickle.load", "loads a nested pickle"),
    ("joblib.numpy_pickle_compat.load_compatibility", "loads a nested pickle"),
    ("uuid._get_command_stdout", "runs programs"),
    ("uuid._popen", "runs programs"),
    ("uuid._ifconfig_getnode", "runs programs"),
    ("uuid._ip_getnode", "runs programs"),
    ("uuid._arp_getnode", "runs programs"),
    ("uuid._netstat_getnode", "runs programs"),
    ("uuid._lanscan_getnode", "runs programs"),
    ("uuid._find_mac_near_keyword", "runs programs"),
    ("uuid._find_mac_under_heading", "runs programs"),
    ("uuid._unix_getnode", "runs programs"),
    ("uuid.getnode", "runs programs (ifconfig, ip, arp)"),
    ("uuid.uuid1", "runs programs (ifconfig, ip, arp)"),
    ("logging.FileHandler", "opens (and truncates) files"),
    ("logging.basicConfig", "opens (and truncates) files"),
    ("torch._tensor._rebuild_from_type_v2", "calls a function and a type named in the data"),
    ("torch._tensor._rebuild_from_type", "calls a function named in the data"),
    ("torch._utils._set_obj_state", "sets attributes on any object"),
    ("torch._utils._import_dotted_name", "imports arbitrary modules"),
    ("torch._utils._type", "imports and calls a type named in the data"),
    ("torch.compile", "runs a backend named in the data"),
    ("torch.serialization._legacy_load", "loads a nested pickle"),
    ("torch.serialization._open_file", "opens files"),
    ("torch.serialization._open_zipfile_reader", "opens files"),
    ("torch.serialization.add_safe_globals", "widens torch's own allow list"),
    ("torch.from_file", "maps files"),
    ("torch._ops.ops.load_library", "loads native libraries"),
    ("torch._classes.classes.load_library", "loads native libraries"),
    ("sysconfig._init_posix", "imports modules"),
];

pub(super) enum Verdict {
    Allowed,
    Denied(&'static str),
    Unknown,
}

/// What the lists say about `module.name` (`name` may be a dotted attribute path).
pub(super) fn judge(module: &str, name: &str) -> Verdict {
    let qualified = format!("{module}.{name}");
    if let Some((_, why)) = DENIED_MODULES.iter().find(|(m, _)| within(module, m)) {
        return Verdict::Denied(why);
    }
    // the module part of a dotted name (`STACK_GLOBAL 'torch' 'hub.load'`) counts too
    if let Some((_, why)) = DENIED_MODULES.iter().find(|(m, _)| within(&qualified, m)) {
        return Verdict::Denied(why);
    }
    let first = name.split('.').next().unwrap_or(name);
    let head = format!("{module}.{first}");
    if let Some((_, why)) = DENIED_NAMES.iter().find(|(q, _)| *q == head || *q == qualified || within(&qualified, q)) {
        return Verdict::Denied(why);
    }
    if name.split('.').any(|part| part.starts_with("__")) {
        return Verdict::Denied("reaches a dunder attribute (__dict__, __globals__, __builtins__, __class__ …)");
    }
    // `logging.os.system`, `collections._sys.modules`: protocol 4 walks attributes, and
    // ordinary modules hold denied ones as attributes.
    if name.split('.').any(|part| {
        let bare = part.trim_start_matches('_');
        DENIED_MODULES.iter().any(|(m, _)| !m.contains('.') && m.trim_start_matches('_') == bare)
    }) {
        return Verdict::Denied("walks into a denied module through another module's attribute");
    }
    if ALLOWED.contains(&qualified.as_str()) {
        return Verdict::Allowed;
    }
    Verdict::Unknown
}

fn within(module: &str, prefix: &str) -> bool {
    module == prefix || (module.starts_with(prefix) && module.as_bytes().get(prefix.len()) == Some(&b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_do_not_overlap() {
        for allowed in ALLOWED {
            let (module, name) = allowed.rsplit_once('.').expect("module.name");
            assert!(!matches!(judge(module, name), Verdict::Denied(_)), "{allowed} is on both lists");
        }
    }

    #[test]
    fn submodules_and_dotted_names_are_covered() {
        assert!(matches!(judge("os.path", "join"), Verdict::Denied(_)));
        assert!(matches!(judge("torch", "hub.load"), Verdict::Denied(_)));
        assert!(matches!(judge("builtins", "getattr"), Verdict::Denied(_)));
        assert!(matches!(judge("collections", "OrderedDict.__init__"), Verdict::Denied(_)));
        assert!(matches!(judge("osmosis", "x"), Verdict::Unknown));
        assert!(matches!(judge("collections", "OrderedDict"), Verdict::Allowed));
    }

    #[test]
    fn python2_names_map_to_python3() {
        assert_eq!(python3_name("__builtin__", "eval"), ("builtins".into(), "eval".into()));
        assert_eq!(python3_name("__builtin__", "reduce"), ("functools".into(), "reduce".into()));
        assert_eq!(python3_name("copy_reg", "_reconstructor"), ("copyreg".into(), "_reconstructor".into()));
        assert_eq!(python3_name("SimpleHTTPServer", "test"), ("http.server".into(), "test".into()));
        assert_eq!(python3_name("xmlrpclib", "ServerProxy"), ("xmlrpc.client".into(), "ServerProxy".into()));
        assert_eq!(
            python3_name("_multiprocessing", "Connection"),
            ("multiprocessing.connection".into(), "Connection".into())
        );
    }

    #[test]
    fn every_name_part_and_module_attributes_are_judged() {
        assert!(matches!(judge("builtins", "__dict__"), Verdict::Denied(_)));
        assert!(matches!(judge("collections", "__builtins__"), Verdict::Denied(_)));
        assert!(matches!(judge("logging", "os.system"), Verdict::Denied(_)));
        assert!(matches!(judge("collections", "_sys.modules"), Verdict::Denied(_)));
        assert!(matches!(judge("numpy", "ndarray.tofile"), Verdict::Denied(_)));
        assert!(matches!(judge("numpy.matlib", "load"), Verdict::Denied(_)));
        assert!(matches!(judge("_pyrepl.pager", "pipe_pager"), Verdict::Denied(_)));
        assert!(matches!(judge("torch._tensor", "_rebuild_from_type_v2"), Verdict::Denied(_)));
        assert!(matches!(judge("logging", "getLogger"), Verdict::Unknown));
    }
}
