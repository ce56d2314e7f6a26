//! Every dependency-list reader on arbitrary bytes: uv.lock, poetry.lock, Pipfile.lock, a
//! conda environment, and an MLflow model folder whose MLmodel and environment files are
//! the input; each gives a list or an error, never a panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use modelgate::artifacts::lockfiles;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    for name in ["uv.lock", "poetry.lock", "Pipfile.lock", "environment.yml"] {
        let _ = lockfiles::read_dependencies(&common::scratch(name, data));
    }
    // An MLflow folder: the input as its MLmodel, and as each environment file beside a
    // well-formed MLmodel.
    let model = common::scratch("MLmodel", data);
    let _ = lockfiles::read_dependencies(&model);
    let folder = model.with_file_name("mlflow-model");
    std::fs::create_dir_all(&folder).expect("scratch folder");
    let mlmodel = "flavors:\n  python_function:\n    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n";
    std::fs::write(folder.join("MLmodel"), mlmodel).expect("scratch file");
    for name in ["python_env.yaml", "conda.yaml", "requirements.txt"] {
        std::fs::write(folder.join(name), data).expect("scratch file");
    }
    let _ = lockfiles::read_dependencies(&folder);
});
