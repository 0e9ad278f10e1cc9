"""TF Serving for zoo exports: ``models.config`` writer and validator (`serving.config`), REST and gRPC clients
(`serving.client`), and a development server with tensorflow_model_server's flags (`python -m serving`)."""
