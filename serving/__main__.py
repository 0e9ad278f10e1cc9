"""``python -m serving --port=8500 --rest_api_port=8501 --model_name=NAME --model_base_path=/abs/path``."""
import sys

from serving.server import main

sys.exit(main())
