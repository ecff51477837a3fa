test:
	python -m pytest tests

lint:
	ruff check sb3_td3x tests examples hyperparams
	ruff format --check sb3_td3x tests examples hyperparams

format:
	ruff format sb3_td3x tests examples hyperparams

type:
	mypy sb3_td3x

.PHONY: test lint format type
