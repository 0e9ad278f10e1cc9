"""``python -m serving --port=8500 --rest_api_port=8501 --model_name=NAME --model_base_path=/abs/path``."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's start-up and per-error C++ log lines

from serving.server import main  # noqa: E402

sys.exit(main())
