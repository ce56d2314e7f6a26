//! The two globals policies: what a tensor checkpoint needs (allow) and what the peer
//! scanners flag (deny). docs/pickle.md gives the reason for every entry.

/// Python 2 names that `pickle` maps to Python 3 ones when it loads protocols 0–2
/// (`_compat_pickle`): a pickle may name `__builtin__.eval` to dodge a list of `builtins`.
pub(super) fn python3_name(module: &str, name: &str) -> (String, String) {
    let renamed = match (module, name) {
        ("__builtin__", "xrange") => Some(("builtins", "range")),
        ("__builtin__", "reduce") => Some(("functools", "reduce")),
        ("__builtin__", "intern") => Some(("sys", "intern")),
        ("__builtin__", "unichr") => Some(("builtins", "chr")),
        ("__builtin__", "unicode" | "basestring") => Some(("builtins", "str")),
        ("__builtin__", "long") => Some(("builtins", "int")),
        ("__builtin__", "raw_input") => Some(("builtins", "input")),
        ("itertools", "izip") => Some(("builtins", "zip")),
        ("itertools", "imap") => Some(("builtins", "map")),
        ("itertools", "ifilter") => Some(("builtins", "filter")),
        ("UserDict", "UserDict") => Some(("collections", "UserDict")),
        _ => None,
    };
    if let Some((m, n)) = renamed {
        return (m.to_string(), n.to_string());
    }
    let module = match module {
        "__builtin__" | "exceptions" => "builtins",
        "copy_reg" => "copyreg",
        "cPickle" => "pickle",
        "commands" => "subprocess",
        "httplib" => "http.client",
        "urllib2" => "urllib.request",
        "Queue" => "queue",
        "cStringIO" | "StringIO" => "io",
        "thread" => "_thread",
        "dummy_thread" => "_dummy_thread",
        "UserDict" | "UserList" | "UserString" => "collections",
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
    ("operator.attrgetter", "reaches any attribute"),
    ("operator.itemgetter", "reaches any item (getattr gadget)"),
    ("operator.methodcaller", "calls any method"),
    ("operator.call", "calls a function"),
    ("_operator.attrgetter", "reaches any attribute"),
    ("_operator.itemgetter", "reaches any item (getattr gadget)"),
    ("_operator.methodcaller", "calls any method"),
    ("_operator.call", "calls a function"),
    ("functools.partial", "binds arguments to any callable"),
    ("functools.partialmethod", "binds arguments to any callable"),
    ("functools.reduce", "calls a function repeatedly"),
    ("_functools.partial", "binds arguments to any callable"),
    ("_functools.reduce", "calls a function repeatedly"),
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
    ("numpy.lib.npyio.load", "loads a nested pickle (allow_pickle)"),
    ("joblib.load", "loads a nested pickle"),
    ("uuid._get_command_stdout", "runs programs"),
    ("uuid._popen", "runs programs"),
    ("platform.popen", "runs programs"),
    ("platform._syscmd_ver", "runs programs"),
    ("site.main", "imports and runs .pth files"),
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
    if let Some((_, why)) = DENIED_NAMES.iter().find(|(q, _)| *q == head || *q == qualified) {
        return Verdict::Denied(why);
    }
    if name.split('.').skip(1).any(|part| part.starts_with("__")) {
        return Verdict::Denied("walks through a dunder attribute (__globals__, __builtins__, __class__ …)");
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
    }
}
